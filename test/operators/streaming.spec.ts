/**
 * A million items stream through in bounded memory: through the pull path
 * `from(pool.map(fn, hugeIterable))`, and through mapOnThreads with chunksize when the source is
 * paced by its consumer. (RxJS sources push and cannot be paused, so an unpaced source such as
 * `range(0, 1e6)` lands in the operator's input buffer all at once — the control test shows the
 * meter sees exactly that.)
 *
 * The meter: the main thread's heap after a full GC, sampled every 100,000 results. The bound:
 * it may grow by at most 4 MB over the baseline taken just before subscribing. Keeping one number
 * per item alive costs about 8 MB per million (the control measures ~8–10 MB), and any per-item
 * bookkeeping leak (a Map entry, a closure, a result) costs several times that, so a leak of even
 * one machine word per item fails; what the pipelines legitimately hold (a 10,000-item window,
 * a few chunks of 1,000 in flight) is far below it. Worker threads have heaps of their own, so RSS
 * would measure them too: the main heap is what the operator controls.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { from, lastValueFrom, range, reduce, tap, type Observable } from 'rxjs';
import { expect, test } from 'vitest';
import { mapOnThreads } from '../../src/operators/mapOnThreads.ts';
import { ThreadPool } from '../../src/pools/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = 1_000_000;
const BOUND_MB = 4;
const sum = (n: number) => n * (n - 1); // Σ 2i for i < n

function heapMB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Runs `output$` to the end, sampling the GC'd heap every 100,000 results; returns the total and the peak growth. */
async function measure(output$: Observable<number>, onResult: () => void = () => {}): Promise<{ total: number; count: number; growth: number }> {
  const baseline = heapMB();
  let peak = 0;
  let count = 0;
  const total = await lastValueFrom(
    output$.pipe(
      tap(() => {
        onResult();
        if (++count % 100_000 === 0) peak = Math.max(peak, heapMB() - baseline);
      }),
      reduce((acc, x) => acc + x, 0),
    ),
  );
  return { total, count, growth: peak };
}

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

test('the pull path: from(pool.map(fn, hugeIterable)) streams a million items in bounded memory', { timeout: 20_000 }, async () => {
  await using pool = new ThreadPool({ maxWorkers: 2 });
  // pool.map reads at most `buffersize` items ahead of the consumer, whatever the iterable's size.
  // (Its default, maxWorkers × chunksize × 64, would be 128,000 numbers here: ~2 MB, within the
  // bound but with little room; the bound is the user's to set.)
  const { total, count, growth } = await measure(from(pool.map((x: number) => x * 2, numbers(N), { chunksize: 1000, buffersize: 8000 })));
  expect(count).toBe(N);
  expect(total).toBe(sum(N));
  expect(growth).toBeLessThan(BOUND_MB);
});

test('mapOnThreads with chunksize streams a million items in bounded memory from a source paced by its consumer', { timeout: 20_000 }, async () => {
  // The source never runs more than WINDOW items ahead of the results received: the same shape
  // as reading a file or a socket and pausing while the pipeline is full.
  const WINDOW = 10_000;
  let received = 0;
  let resume: (() => void) | undefined;
  async function* paced(): AsyncGenerator<number> {
    for (let i = 0; i < N; i++) {
      if (i - received >= WINDOW) await new Promise<void>((r) => (resume = r));
      yield i;
    }
  }
  const output$ = from(paced()).pipe(mapOnThreads((x: number) => x * 2, { maxWorkers: 2, chunksize: 1000 }));
  const { total, count, growth } = await measure(output$, () => {
    received++;
    const wake = resume;
    resume = undefined;
    wake?.();
  });
  expect(count).toBe(N);
  expect(total).toBe(sum(N));
  expect(growth).toBeLessThan(BOUND_MB);
});

test('control: an unpaced source buffers the whole input, and the meter sees it', { timeout: 20_000 }, async () => {
  // range() pushes a million values synchronously: they all wait in the input buffer. This is
  // what the bound above would catch, and why the README points huge inputs at the pull path.
  const { total, growth } = await measure(range(0, N).pipe(mapOnThreads((x: number) => x * 2, { maxWorkers: 2, chunksize: 1000 })));
  expect(total).toBe(sum(N));
  expect(growth).toBeGreaterThan(BOUND_MB);
});
