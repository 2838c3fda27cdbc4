// workerpool: one worker script for both workerType 'thread' and 'process'.
import workerpool from 'workerpool';
import { inc, spin, echo, seedThread, seedProcess } from './tasks.mjs';
workerpool.worker({
  inc,
  spin,
  echo,
  seedThread,
  seedProcess,
  echoMove: (buf) => new workerpool.Transfer(buf, [buf]),
});
