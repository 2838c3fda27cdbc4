// threads.js (the `threads` package): expose() an object of methods.
import { expose, Transfer } from 'threads/worker';
import { inc, spin, echo, seedThread, seedProcess } from './tasks.mjs';
expose({ inc, spin, echo, seedThread, seedProcess, echoMove: (buf) => Transfer(buf) });
