// threads.js workers expose their methods; this one exposes the same function.
import { expose } from 'threads/worker';
import { hash } from './adapters-tasks.mjs';

expose({ hash });
