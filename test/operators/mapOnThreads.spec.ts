/**
 * mapOnThreads on real worker threads: the shared runtime suite, plus a running-task counter in a
 * SharedArrayBuffer that every task increments on entry and decrements on exit.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { expect, test, vi } from 'vitest';
import { mapOnThreads } from '../../src/operators/mapOnThreads.ts';
import { operatorSuite, prng, type RecordedPool } from './runtime-suite.ts';

const created = vi.hoisted(() => [] as RecordedPool[]);

// Every ThreadPool mapOnThreads creates is recorded, with its shutdown calls, so the tests can see
// one pool per subscription, its workers, and that it was shut down.
vi.mock('../../src/pools/ThreadPool.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/pools/ThreadPool.ts')>();
  const { recording } = await import('./recording.ts');
  return { ...original, ThreadPool: recording(original.ThreadPool, created) };
});

operatorSuite('mapOnThreads', mapOnThreads as never, created);

test('mapOnThreads: running tasks never exceed concurrency (a SharedArrayBuffer counter)', { timeout: 15_000 }, async () => {
  // [0] running now, [1] the most ever running; shared with every worker thread.
  const counter = new Int32Array(new SharedArrayBuffer(8));
  const random = prng(11);
  const items = Array.from({ length: 60 }, (_, i) => ({ i, ms: 1 + Math.floor(random() * 6), counter }));
  const count = (item: { i: number; ms: number; counter: Int32Array }) => {
    const running = Atomics.add(item.counter, 0, 1) + 1;
    for (let max = Atomics.load(item.counter, 1); running > max; max = Atomics.load(item.counter, 1)) {
      if (Atomics.compareExchange(item.counter, 1, max, running) === max) break;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, item.ms); // the task's work
    Atomics.sub(item.counter, 0, 1);
    return item.i;
  };
  const out = await lastValueFrom(from(items).pipe(mapOnThreads(count, { maxWorkers: 4, concurrency: 3 }), toArray()));
  expect(out).toEqual(items.map((x) => x.i));
  expect(Atomics.load(counter, 0)).toBe(0);
  expect(Atomics.load(counter, 1)).toBeLessThanOrEqual(3);
  expect(Atomics.load(counter, 1)).toBeGreaterThanOrEqual(2); // they did overlap: the bound was exercised
});
