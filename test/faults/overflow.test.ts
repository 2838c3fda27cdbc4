/**
 * Load: a hot source that outruns the workers. Each overflow policy holds what is buffered at its
 * bound and reports what it did (the error names the bound; onDrop counts every drop).
 *
 * "Held at its bound" is measured exactly, not guessed from the heap: every value the source emits
 * is counted, and so is every value dropped and every result emitted; what is in between (waiting
 * or in flight) must never exceed maxBuffered + (2 × concurrency − 1) × chunksize (the operator's
 * documented bound) + 1 (the value being handled). The payload memory is also sampled, as a check
 * that dropped values are really let go.
 */
import { finalize, interval, lastValueFrom, map, range, take, tap, toArray, type Observable } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { BufferOverflowError, mapOnProcesses, mapOnThreads, type OverflowPolicy } from '../../src/index.ts';
import { NOTHING_LEFT, outcome, runtimes, track, within } from './fixtures/harness.ts';

const CONCURRENCY = 2;
const MAX_BUFFERED = 64;
const BOUND = MAX_BUFFERED + (2 * CONCURRENCY - 1) + 1;

interface Load {
  emitted: number;
  dropped: number;
  output: number;
  maxOutstanding: number;
  dropCounts: number[];
  droppedValues: number[];
  peakArrayBuffers: number;
}

/** Wraps `source` and the operator with the accounting: counts in, drops, out, and the most in between. */
function measured<T extends { i: number }>(
  source: Observable<T>,
  operate: (onDrop: (value: T, count: number) => void) => (source: Observable<T>) => Observable<number>,
): { load: Load; output: Observable<number> } {
  const load: Load = { emitted: 0, dropped: 0, output: 0, maxOutstanding: 0, dropCounts: [], droppedValues: [], peakArrayBuffers: 0 };
  const observe = () => {
    load.maxOutstanding = Math.max(load.maxOutstanding, load.emitted - load.dropped - load.output);
  };
  const onDrop = (value: T, count: number) => {
    load.dropped++;
    load.dropCounts.push(count);
    load.droppedValues.push(value.i);
  };
  const output = source.pipe(
    tap(() => {
      load.emitted++;
      observe();
      if (load.emitted % 1_000 === 0) load.peakArrayBuffers = Math.max(load.peakArrayBuffers, process.memoryUsage().arrayBuffers);
    }),
    operate(onDrop),
    tap(() => {
      load.output++;
      observe();
    }),
  );
  return { load, output };
}

describe.each(runtimes)('$name', (rt) => {
  const operator = rt.thread ? mapOnThreads : mapOnProcesses;
  const options = { maxWorkers: CONCURRENCY, concurrency: CONCURRENCY, maxBuffered: MAX_BUFFERED };
  /** A task slow enough (5 ms) that any hot source outruns two workers. */
  const slow = (value: { i: number }) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    return value.i;
  };

  describe('a synchronous burst of 30,000 values carrying 16 KiB each (480 MiB if all were kept)', () => {
    const N = 30_000;
    const burst = () => range(0, N).pipe(map((i) => ({ i, payload: new Uint8Array(16 * 1024) })));
    const first = (n: number, from = 0) => Array.from({ length: n }, (_, k) => from + k);

    test.each(['drop-newest', 'drop-oldest'] as const)('%s: keeps what the policy says, drops and reports the rest, never holds more than the bound', async (policy) => {
      using tracker = track();
      const before = process.memoryUsage().arrayBuffers;
      const { load, output } = measured(burst(), (onDrop) => operator(slow, { ...options, overflow: policy, onDrop }));
      const out = await within(lastValueFrom(output.pipe(toArray())), 15_000, 'the stream to complete');
      // While the burst runs no result can come back, so which values survive is exact:
      // the first CONCURRENCY start at once, then MAX_BUFFERED wait — the first or the last ones.
      const kept = policy === 'drop-newest' ? first(CONCURRENCY + MAX_BUFFERED) : [...first(CONCURRENCY), ...first(MAX_BUFFERED, N - MAX_BUFFERED)];
      expect(out).toEqual(kept);
      expect(load.dropped).toBe(N - kept.length);
      expect(load.dropCounts).toEqual(first(N - kept.length, 1)); // onDrop's running count: 1, 2, 3, …
      const keptSet = new Set(kept);
      expect(load.droppedValues.some((i) => keptSet.has(i))).toBe(false);
      expect(load.emitted).toBe(N);
      expect(load.maxOutstanding).toBeLessThanOrEqual(BOUND);
      console.log(`${rt.name} ${policy}: peak payload memory +${((load.peakArrayBuffers - before) / 2 ** 20).toFixed(1)} MiB`);
      expect(load.peakArrayBuffers - before).toBeLessThan(200 * 1024 * 1024); // far below the 480 MiB emitted
      expect(await tracker.settle()).toEqual(NOTHING_LEFT);
    }, 20_000);

    test("error: BufferOverflowError naming the bound, and the source is stopped right after", async () => {
      using tracker = track();
      const { load, output } = measured(burst(), () => operator(slow, { ...options, overflow: 'error' }));
      const result = await within(outcome(lastValueFrom(output)), 15_000, 'the stream to error');
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toBeInstanceOf(BufferOverflowError);
      expect(result.error.bound).toBe(MAX_BUFFERED);
      expect(result.error.message).toMatch(new RegExp(`maxBuffered \\(${MAX_BUFFERED}\\) exceeded`));
      expect(load.emitted).toBeLessThanOrEqual(CONCURRENCY + MAX_BUFFERED + 2); // not 30,000
      expect(load.maxOutstanding).toBeLessThanOrEqual(BOUND);
      expect(await tracker.settle()).toEqual(NOTHING_LEFT);
    }, 20_000);
  });

  describe('interval(0): a live hot source, about 5× faster than two 5 ms workers', () => {
    const N = 600;
    const MB = 16;
    const live = () => interval(0).pipe(take(N), map((i) => ({ i })));

    test.each(['drop-newest', 'drop-oldest'] as const)('%s: every value is either emitted once, in order, or dropped and reported', async (policy: OverflowPolicy) => {
      const { load, output } = measured(live(), (onDrop) => operator(slow, { ...options, maxBuffered: MB, overflow: policy, onDrop }));
      const out = await within(lastValueFrom(output.pipe(toArray())), 15_000, 'the stream to complete');
      expect(load.dropped).toBeGreaterThan(0);
      expect(out.length + load.dropped).toBe(N);
      expect(out.every((v, k) => k === 0 || v > out[k - 1]!)).toBe(true); // in order, no duplicate
      expect(new Set([...out, ...load.droppedValues]).size).toBe(N); // each value accounted for once
      expect(load.dropCounts.at(-1)).toBe(load.dropped);
      expect(load.maxOutstanding).toBeLessThanOrEqual(MB + (2 * CONCURRENCY - 1) + 1);
      expect(load.droppedValues.every((v, k) => k === 0 || v > load.droppedValues[k - 1]!)).toBe(true);
      if (policy === 'drop-newest') {
        // Nothing is dropped before the buffer first fills: the first values are always kept.
        expect(out.slice(0, CONCURRENCY + MB)).toEqual(Array.from({ length: CONCURRENCY + MB }, (_, k) => k));
      } else {
        // Each arrival only ever pushes out older values: the last ones are always kept.
        expect(out.slice(-MB)).toEqual(Array.from({ length: MB }, (_, k) => N - MB + k));
      }
    }, 20_000);

    test('error: BufferOverflowError, and the interval is unsubscribed', async () => {
      let sourceEnded = false;
      const { load, output } = measured(live().pipe(finalize(() => (sourceEnded = true))), () =>
        operator(slow, { ...options, maxBuffered: MB, overflow: 'error' }),
      );
      const result = await within(outcome(lastValueFrom(output)), 15_000, 'the stream to error');
      expect(result.ok ? 'completed' : result.error).toBeInstanceOf(BufferOverflowError);
      expect(sourceEnded).toBe(true);
      expect(load.emitted).toBeLessThan(N);
      expect(load.maxOutstanding).toBeLessThanOrEqual(MB + (2 * CONCURRENCY - 1) + 1);
    }, 20_000);
  });
});
