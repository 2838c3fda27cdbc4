// Hand-written worker_threads stream: the floor pool.stream is measured against. Message in:
// { n, batch, credit } (credit 0: no flow control, a flood); then, with credit, { more } messages.
// Out: arrays of `batch` values, then null at the end.
import { parentPort } from 'node:worker_threads';

let credit = 0;
let wake = null;
parentPort.on('message', async (m) => {
  if (m.more !== undefined) {
    credit += m.more;
    const w = wake;
    wake = null;
    w?.();
    return;
  }
  const { n, batch, credit: initial } = m;
  credit = initial;
  let out = [];
  for (let i = 0; i < n; i++) {
    if (initial > 0) {
      if (credit === 0) {
        if (out.length) parentPort.postMessage(out), (out = []);
        await new Promise((resolve) => (wake = resolve));
      }
      credit--;
    }
    out.push(i);
    if (out.length === batch) parentPort.postMessage(out), (out = []);
  }
  if (out.length) parentPort.postMessage(out);
  parentPort.postMessage(null);
});
