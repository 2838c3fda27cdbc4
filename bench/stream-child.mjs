// One measurement of bench/stream.ts, in a process of its own (so each peak RSS is its own):
//   node [--import tsx] bench/stream-child.mjs <system> <values> <src|built>
// Prints one JSON line: { system, values, ms, rate, mainRss0, mainRssPeak, mainRssAtTenth, mainPeakAfterTenth, mainHwm, worker }.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { from as fromValues } from 'rxjs';

// `threads:4096` is `threads` with `buffersize: 4096` (the defaults otherwise).
const [system, valuesArg, from = 'src'] = process.argv.slice(2);
const [kind, buffersizeArg] = system.split(':');
const options = buffersizeArg ? { buffersize: Number(buffersizeArg) } : {};
const n = Number(valuesArg);
const lib = await import(from === 'built' ? '../dist/index.js' : '../src/index.ts');
const streamTasks = new URL('./workers/stream-tasks.mjs', import.meta.url);
const numbers = lib.task(streamTasks, 'numbers');
const numbersAsync = lib.task(streamTasks, 'numbersAsync');
const workerMemory = lib.task(streamTasks, 'workerMemory');

const rss = () => process.memoryUsage.rss();
function vmHWM() {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
}

let peak = 0;
let count = 0;
let sum = 0;
/** The main RSS once a tenth of the values is in, and its peak from then on: flat memory means the two stay close. */
const tenth = Math.floor(n / 10);
let rssAtTenth = 0;
let peakAfterTenth = 0;
/** The consumer: counts and sums, samples the main RSS every 65,536 values. */
const take = (v) => {
  sum += v;
  if (count === tenth) rssAtTenth = peakAfterTenth = rss();
  if ((count++ & 0xffff) === 0) {
    const now = rss();
    peak = Math.max(peak, now);
    if (rssAtTenth) peakAfterTenth = Math.max(peakAfterTenth, now);
  }
};

async function* localAsync(k) {
  for (let i = 0; i < k; i++) yield i;
}
function* localSync(k) {
  for (let i = 0; i < k; i++) yield i;
}

/** A raw worker_threads stream (bench/workers/raw-stream.mjs): batches of 512, with credits or as a flood. */
function raw(credit) {
  const worker = new Worker(new URL('./workers/raw-stream.mjs', import.meta.url));
  return {
    ready: new Promise((resolve) => worker.once('online', resolve)),
    run: () =>
      new Promise((resolve) => {
        let granted = credit;
        worker.on('message', (batch) => {
          if (batch === null) {
            void worker.terminate();
            return resolve();
          }
          for (let i = 0; i < batch.length; i++) take(batch[i]);
          // Credits granted back half a window at a time, as pool.stream does.
          if (credit > 0 && granted - count <= credit / 2) {
            worker.postMessage({ more: credit - (granted - count) });
            granted = count + credit;
          }
        });
        worker.postMessage({ n, batch: 512, credit });
      }),
  };
}

let worker;
let run;
let pool;
switch (kind) {
  case 'plain-sync':
    run = async () => {
      for (const v of localSync(n)) take(v);
    };
    break;
  case 'plain-async':
    run = async () => {
      for await (const v of localAsync(n)) take(v);
    };
    break;
  case 'raw-flood':
  case 'raw-credit': {
    const r = raw(system === 'raw-flood' ? 0 : 1024);
    await r.ready;
    run = r.run;
    break;
  }
  case 'threads':
  case 'threads-async':
  case 'threads-flatMap':
  case 'processes': {
    pool = kind === 'processes' ? new lib.ProcessPool({ maxWorkers: 1 }) : new lib.ThreadPool({ maxWorkers: 1 });
    await pool.submit(workerMemory, []); // the worker is up
    const fn = kind === 'threads-async' ? numbersAsync : numbers;
    run =
      kind === 'threads-flatMap'
        ? () => new Promise((resolve, reject) => fromValues([n]).pipe(lib.flatMapOnPool(pool, fn, options)).subscribe({ next: take, error: reject, complete: resolve }))
        : async () => {
            for await (const v of pool.stream(fn, [n], options)) take(v);
          };
    break;
  }
  default:
    throw new Error(`unknown system ${system}`);
}

const rss0 = rss();
peak = rss0;
const start = performance.now();
await run();
const ms = performance.now() - start;
peak = Math.max(peak, rss());
if (count !== n || sum !== (n * (n - 1)) / 2) throw new Error(`${system}: got ${count} values summing to ${sum}`);
if (pool) {
  worker = await pool.submit(workerMemory, []);
  if (kind !== 'processes') delete worker.vmHWM, delete worker.vmRSS; // a thread shares the main process's RSS
  await pool.shutdown();
}
console.log(JSON.stringify({ system, values: n, ms, rate: n / (ms / 1000), mainRss0: rss0, mainRssPeak: peak, mainRssAtTenth: rssAtTenth, mainPeakAfterTenth: peakAfterTenth, mainHwm: vmHWM(), worker }));
