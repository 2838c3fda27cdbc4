/**
 * A million values stream through pool.stream and flatMapOnPool in bounded memory on the consumer's
 * side: the credits keep the worker at most `buffersize` values ahead, whatever the generator's
 * length. The meter (as in test/operators/streaming.spec.ts): the main thread's heap after a full
 * GC, sampled every 100,000 values; it may grow by at most 4 MB over the baseline taken just
 * before the stream starts. Keeping one number per value alive costs about 8 MB per million (the
 * control shows the meter sees that), so a leak of a word per value fails. The worker's side is
 * measured by bench/stream.ts (its heap and RSS peaks on a 10M-value generator).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { from } from 'rxjs';
import { expect, test } from 'vitest';
import { flatMapOnPool } from '../../src/operators/flatMapOnPool.ts';
import { ThreadPool } from '../../src/pools/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = 1_000_000;
const BOUND_MB = 4;
const numbers = function* (n: number) {
  for (let i = 0; i < n; i++) yield i;
};

function heapMB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Feeds every value to `onValue` (via `consume`), sampling the GC'd heap every 100,000 values. */
async function meter(consume: (onValue: (v: number) => void) => Promise<void>, keep = false): Promise<{ count: number; sum: number; growth: number }> {
  const kept: number[] = [];
  const baseline = heapMB();
  let peak = 0;
  let count = 0;
  let sum = 0;
  await consume((v) => {
    sum += v;
    if (keep) kept.push(v);
    if (++count % 100_000 === 0) peak = Math.max(peak, heapMB() - baseline);
  });
  return { count, sum, growth: peak };
}

test('pool.stream: a million values in bounded memory', { timeout: 30_000 }, async () => {
  await using pool = new ThreadPool({ maxWorkers: 1 });
  const { count, sum, growth } = await meter(async (onValue) => {
    for await (const v of pool.stream(numbers, [N])) onValue(v);
  });
  expect(count).toBe(N);
  expect(sum).toBe((N * (N - 1)) / 2);
  expect(growth).toBeLessThan(BOUND_MB);
});

test('flatMapOnPool: a million values from two streams, ordered, in bounded memory', { timeout: 30_000 }, async () => {
  await using pool = new ThreadPool({ maxWorkers: 2 });
  const { count, growth } = await meter(
    (onValue) => new Promise((resolve, reject) => from([N / 2, N / 2]).pipe(flatMapOnPool(pool, numbers)).subscribe({ next: onValue, error: reject, complete: resolve })),
  );
  expect(count).toBe(N);
  expect(growth).toBeLessThan(BOUND_MB);
});

test('control: a consumer that keeps every value grows, and the meter sees it', { timeout: 30_000 }, async () => {
  await using pool = new ThreadPool({ maxWorkers: 1 });
  const { count, growth } = await meter(async (onValue) => {
    for await (const v of pool.stream(numbers, [N])) onValue(v);
  }, true);
  expect(count).toBe(N);
  expect(growth).toBeGreaterThan(BOUND_MB);
});
