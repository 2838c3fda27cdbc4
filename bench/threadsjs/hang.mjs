// Claim: when a worker exits mid-task, threads.js never settles that task (the await hangs).
// Prints what happened within 5 s. Compare: piscina and workerpool reject.
import { spawn, Pool, Worker } from 'threads';
import { Piscina } from 'piscina';
import workerpool from 'workerpool';

const within = (p, ms) =>
  Promise.race([
    p.then((v) => `resolved ${v}`, (e) => `rejected: ${e?.name ? `${e.name}: ` : ''}${String(e?.message ?? e).split('\n')[0]}`),
    new Promise((r) => setTimeout(() => r(`still pending after ${ms / 1000} s (hung)`), ms)),
  ]);

const pool = Pool(() => spawn(new Worker('./exit-worker.mjs')), 1);
console.log('threads.js Pool, task calls process.exit(1):', await within(Promise.resolve(pool.queue((w) => w.exit())), 5000));
console.log('threads.js Pool, next task on the same pool:  ', await within(Promise.resolve(pool.queue((w) => w.ok(1))), 5000));
const [w] = [await spawn(new Worker('./exit-worker.mjs'))];
console.log('threads.js spawn (no pool), process.exit(1):   ', await within(w.exit(), 5000));

const pis = new Piscina({ filename: new URL('./exit-task-piscina.mjs', import.meta.url).href, maxThreads: 1 });
console.log('piscina, same task:                           ', await within(pis.run(0), 5000));
const wp = workerpool.pool({ workerType: 'thread', maxWorkers: 1 });
console.log('workerpool thread, same task:                 ', await within(wp.exec(() => process.exit(1), []), 5000));
try {
  const { ThreadPool } = await import('../../dist/index.js');
  const ours = new ThreadPool({ maxWorkers: 1 });
  console.log('rxjs-pools ThreadPool, same task:             ', await within(ours.submit(() => process.exit(1), []), 5000));
  console.log('rxjs-pools ThreadPool, next task:             ', await within(ours.submit((x) => x + 1, [1]), 5000));
} catch (e) {
  console.log('rxjs-pools: not built (npm run build)', String(e?.message ?? e).split('\n')[0]);
}
process.exit(0); // threads.js keeps the process alive otherwise
