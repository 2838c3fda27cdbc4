// Hand-written child_process.fork round trip over the IPC channel; same protocol as raw-thread.mjs.
import * as tasks from './tasks.mjs';

process.on('message', (m) => {
  const id = m[0];
  const fn = tasks[m[1] === 'echoMove' ? 'echo' : m[1]];
  if (m[3]) {
    const args = m[2];
    const out = new Array(args.length);
    for (let i = 0; i < args.length; i++) out[i] = fn(args[i]);
    process.send([id, out]);
  } else {
    process.send([id, fn(m[2])]);
  }
});
// Exit with the parent: a disconnected IPC channel means the harness is gone.
process.on('disconnect', () => process.exit(0));
