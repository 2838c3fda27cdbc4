// Hand-written worker_threads round trip: the floor every pool is measured against.
// Message in: [id, fnName, arg, batched]; out: [id, result]. A batched message carries an array of
// args and gets an array of results back. 'echoMove' transfers the buffer back.
import { parentPort } from 'node:worker_threads';
import * as tasks from './tasks.mjs';

parentPort.on('message', (m) => {
  const id = m[0];
  const name = m[1];
  if (name === 'echoMove') {
    parentPort.postMessage([id, m[2]], [m[2]]);
    return;
  }
  const fn = tasks[name];
  if (m[3]) {
    const args = m[2];
    const out = new Array(args.length);
    for (let i = 0; i < args.length; i++) out[i] = fn(args[i]);
    parentPort.postMessage([id, out]);
  } else {
    parentPort.postMessage([id, fn(m[2])]);
  }
});
