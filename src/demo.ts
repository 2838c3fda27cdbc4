/**
 * `npm run demo`: the seed's two examples as RxJS pipelines, then a CPU-bound comparison measured
 * live. About 15–20 s; exits by itself (every pool is shut down when its pipeline ends).
 *
 *   1. numbers 1–10, a blocking 1 s task, 3 threads (mapOnThreads)       → about 4 s, in order
 *   2. [1, 2, 3, 4, 5, 11, 12, 14], a blocking 2 s task, 3 processes     → about 6 s, in order
 *   3. the same CPU work on the main thread, on threads and on processes → a small table
 */
import { availableParallelism, loadavg } from 'node:os';
import { from, lastValueFrom, tap, toArray, type OperatorFunction } from 'rxjs';
import { mapOnProcesses } from './operators/mapOnProcesses.ts';
import { mapOnThreads } from './operators/mapOnThreads.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Prints the elapsed time beside the sequential time (n × d) and the ideal ⌈n / workers⌉ × d. */
function report(label: string, started: number, n: number, durationMs: number, workers: number): void {
  const elapsed = performance.now() - started;
  const sequential = n * durationMs;
  const ideal = Math.ceil(n / workers) * durationMs;
  console.log(
    `→ ${label}: ${seconds(elapsed)}   (one at a time: ${seconds(sequential)}; ideal ⌈${n}/${workers}⌉ × ${durationMs / 1000} s = ${seconds(ideal)})\n`,
  );
}

// ── 1. threads ────────────────────────────────────────────────────────────────────────────────
// The task blocks its thread for a second, like time.sleep(1) in the seed. It is sent to the
// workers by its source, so it must be self-contained.
const processNumber = (n: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  return n;
};

console.log('1. Numbers 1–10, a blocking 1 s task, 3 threads (mapOnThreads)\n');
let started = performance.now();
await lastValueFrom(
  from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).pipe(
    mapOnThreads(processNumber, { maxWorkers: 3 }),
    tap((n) => console.log(`Processed Number: ${n}`)),
  ),
);
report('10 tasks of 1 s on 3 threads', started, 10, 1000, 3);

// ── 2. processes ──────────────────────────────────────────────────────────────────────────────
const square = (n: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
  return n * n;
};
const numbers = [1, 2, 3, 4, 5, 11, 12, 14];

console.log(`2. ${JSON.stringify(numbers)}, a blocking 2 s task, 3 processes (mapOnProcesses)\n`);
started = performance.now();
await lastValueFrom(
  from(numbers).pipe(
    mapOnProcesses(square, { maxWorkers: 3 }),
    tap({
      next: (() => {
        let i = 0;
        return (sq: number) => console.log(`Square of ${numbers[i++]}: ${sq}`);
      })(),
    }),
  ),
);
report(`${numbers.length} tasks of 2 s on 3 processes`, started, numbers.length, 2000, 3);

// ── 3. CPU-bound: main thread vs threads vs processes ─────────────────────────────────────────
/** Pure CPU work: count the primes below `limit` by trial division. */
const countPrimes = (limit: number) => {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
};

const workers = availableParallelism();
const TASKS = Math.max(16, workers * 8);
// About 3 s of work on the main thread in all: enough that starting the workers (a few hundred ms)
// does not hide the parallelism, short enough for the demo's 30 s budget.
const TARGET_MS = Math.round(3000 / TASKS);

// Calibrate on this machine: a limit for which one task takes about TARGET_MS (time ~ limit^1.5).
let limit = 20_000;
let taskMs = 0;
for (;;) {
  const t = performance.now();
  countPrimes(limit);
  taskMs = performance.now() - t;
  if (taskMs >= 20) break;
  limit *= 2;
}
limit = Math.round(limit * (TARGET_MS / taskMs) ** (2 / 3));
const limits = Array.from({ length: TASKS }, () => limit);

/** Shows `label [#####.....] k/n` while it runs (rewritten in place on a terminal). */
function progress(label: string): { tick: () => void; done: (ms: number) => void } {
  let k = 0;
  const draw = (suffix = '') => {
    const bar = '#'.repeat(k) + '.'.repeat(TASKS - k);
    const line = `   ${label.padEnd(26)} [${bar}] ${String(k).padStart(2)}/${TASKS}${suffix}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
    else if (suffix) process.stdout.write(`${line}\n`);
  };
  draw();
  return {
    tick: () => {
      k++;
      draw();
    },
    done: (ms) => {
      draw(`  ${seconds(ms)}`);
      if (process.stdout.isTTY) process.stdout.write('\n');
    },
  };
}

async function measure(label: string, run: (tick: () => void) => Promise<number[]>): Promise<number> {
  const bar = progress(label);
  const t = performance.now();
  const counts = await run(bar.tick);
  const ms = performance.now() - t;
  if (counts.length !== TASKS || counts.some((c) => c !== counts[0])) throw new Error(`${label}: wrong results`);
  bar.done(ms);
  return ms;
}

const onPool = (operator: OperatorFunction<number, number>) => (tick: () => void) =>
  lastValueFrom(from(limits).pipe(operator, tap(tick), toArray()));

console.log(`3. CPU-bound: ${TASKS} tasks counting the primes below ${limit.toLocaleString('en')} (~${TARGET_MS} ms each here)`);
// Measured live: whatever else the machine runs takes cores from the workers, so say how busy it is.
console.log(`   ${workers} cores; load average ${loadavg()[0]!.toFixed(1)} (other programs take cores from the workers)\n`);
const mainMs = await measure('main thread (a plain loop)', async (tick) => {
  const out: number[] = [];
  for (const l of limits) {
    out.push(countPrimes(l));
    tick();
    await new Promise((resolve) => setImmediate(resolve)); // let the progress bar draw
  }
  return out;
});
const threadsMs = await measure(`mapOnThreads (${workers} threads)`, onPool(mapOnThreads(countPrimes, { maxWorkers: workers })));
const processesMs = await measure(`mapOnProcesses (${workers} procs)`, onPool(mapOnProcesses(countPrimes, { maxWorkers: workers })));

const row = (name: string, ms: number) => `   ${name.padEnd(16)} ${seconds(ms).padStart(8)}   ${(mainMs / ms).toFixed(2).padStart(5)}×`;
console.log(`\n   ${'runs on'.padEnd(16)} ${'time'.padStart(8)}   speed-up`);
console.log(row('main thread', mainMs));
console.log(row('threads', threadsMs));
console.log(row('processes', processesMs));
console.log(
  `\n   Unlike CPython's threads (one GIL), Node's worker threads run JavaScript in parallel, so for CPU work\n` +
    `   threads and processes both approach ${workers}× on ${workers} cores; their times include starting the workers\n` +
    '   (threads start faster; processes are isolated: their own memory, flags and environment).',
);
