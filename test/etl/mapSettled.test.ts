/**
 * mapSettled against a pool the test settles by hand (exact, no timing), then against a real one.
 */
import { EventEmitter, once } from 'node:events';
import { describe, expect, test } from 'vitest';
import { AbortError, BrokenPoolError, ThreadPool, WorkerCrashedError } from '../../src/index.ts';
import type { BatchCallback, Cancel, Pool } from '../../src/pools/Pool.ts';
import { mapSettled, type Settled } from '../../src/streams/index.ts';

interface Batch {
  readonly items: unknown[];
  readonly callback: BatchCallback<unknown>;
  cancelled: boolean;
}

/** A Pool whose batches wait until the test settles them. */
class ManualPool extends EventEmitter implements Pool {
  readonly maxWorkers = 2;
  readonly batches: Batch[] = [];
  runBatch<T, R>(_fn: unknown, items: readonly T[], callback: BatchCallback<R>): Cancel {
    const batch: Batch = { items: [...items], callback: callback as BatchCallback<unknown>, cancelled: false };
    this.batches.push(batch);
    this.emit('batch');
    return () => void (batch.cancelled = true);
  }
  /** Resolves once `n` batches have been submitted. */
  async submitted(n: number): Promise<Batch[]> {
    while (this.batches.length < n) await once(this, 'batch');
    return this.batches;
  }
  /** Settles batch `i`: each item doubled, or the given per-item errors, or a batch-wide error. */
  settle(i: number, outcome: { errors?: (Error | undefined)[]; error?: Error } = {}): void {
    const batch = this.batches[i]!;
    if (outcome.error) batch.callback(outcome.error, undefined);
    else batch.callback(undefined, { values: batch.items.map((x) => (x as number) * 2), errors: outcome.errors });
  }
}

const brief = (r: Settled<number, unknown>) => (r.ok ? `${r.index}:${String(r.value)}` : `${r.index}!${r.error.message}`);

async function collect<T>(iterable: AsyncIterable<T>, into: T[] = []): Promise<T[]> {
  for await (const x of iterable) into.push(x);
  return into;
}

describe('mapSettled on a hand-settled pool', () => {
  test('ordered: yields in input order whatever order the batches settle in', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    const results = collect(mapSettled(pool, (n: number) => n, [1, 2, 3, 4]));
    await pool.submitted(4);
    pool.settle(2);
    pool.settle(3);
    pool.settle(0);
    pool.settle(1);
    expect((await results).map(brief)).toEqual(['0:2', '1:4', '2:6', '3:8']);
  });

  test('unordered: yields in the order batches settle', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    const out: Settled<number, unknown>[] = [];
    const results = collect(mapSettled(pool, (n: number) => n, [1, 2, 3], { ordered: false }), out);
    await pool.submitted(3);
    pool.settle(2);
    pool.settle(0);
    pool.settle(1);
    expect((await results).map(brief)).toEqual(['2:6', '0:2', '1:4']);
  });

  test('failed items and failed batches are yielded as failures and the run goes on', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    const results = collect(mapSettled(pool, (n: number) => n, [1, 2, 3, 4, 5], { chunksize: 2 }));
    const batches = await pool.submitted(3);
    expect(batches.map((b) => b.items)).toEqual([[1, 2], [3, 4], [5]]);
    pool.settle(0, { errors: [undefined, new RangeError('two')] });
    pool.settle(1, { error: new WorkerCrashedError('crashed', 1, null) });
    pool.settle(2);
    const all = await results;
    expect(all.map(brief)).toEqual(['0:2', '1!two', '2!crashed', '3!crashed', '4:10']);
    expect(all[1]).toMatchObject({ ok: false, item: 2 });
    expect((all[2] as { error: Error }).error).toBeInstanceOf(WorkerCrashedError);
  });

  test('a partial chunk goes out when the source pauses (no waiting to fill it)', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    async function* live() {
      yield 1;
      yield 2;
      await paused; // a live feed between records
      yield 3;
    }
    const results = collect(mapSettled(pool, (n: number) => n, live(), { chunksize: 8 }));
    const [first] = await pool.submitted(1);
    expect(first!.items).toEqual([1, 2]);
    release();
    const batches = await pool.submitted(2);
    expect(batches[1]!.items).toEqual([3]);
    pool.settle(0);
    pool.settle(1);
    expect((await results).map(brief)).toEqual(['0:2', '1:4', '2:6']);
  });

  test('reads at most buffersize items ahead of the consumer, even from an infinite source', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    let pulled = 0;
    function* naturals() {
      for (;;) yield ++pulled;
    }
    const iterator = mapSettled(pool, (n: number) => n, naturals(), { buffersize: 4 });
    const first = iterator.next();
    await pool.submitted(4);
    // Blocked at the bound: nothing more is read while the consumer waits.
    for (let turn = 0; turn < 10; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(pulled).toBe(4);
    pool.settle(0);
    pool.settle(1);
    expect(brief((await first).value as Settled<number, unknown>)).toBe('0:2');
    for (let turn = 0; turn < 10; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    // One taken: 3 are still ahead, more than half the bound, so nothing more is read yet …
    expect(pulled).toBe(4);
    // … two taken: reading resumes, up to the bound again (refills travel together, a batch each).
    expect(brief((await iterator.next()).value as Settled<number, unknown>)).toBe('1:4');
    await pool.submitted(6);
    expect(pulled).toBe(6);
    await iterator.return();
  });

  test('leaving early cancels what is pending and closes the source', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    let closed = false;
    function* source() {
      try {
        for (let i = 1; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const iterator = mapSettled(pool, (n: number) => n, source(), { buffersize: 3 });
    const first = iterator.next();
    await pool.submitted(3);
    pool.settle(0);
    await first;
    await iterator.return();
    expect(closed).toBe(true);
    // The first was yielded; every other one sent (3, or 4 if the reader refilled first) is cancelled.
    expect(pool.batches[0]!.cancelled).toBe(false);
    expect(pool.batches.length).toBeGreaterThanOrEqual(3);
    expect(pool.batches.slice(1).every((b) => b.cancelled)).toBe(true);
  });

  test('an error of the source comes after the outcomes of the items read before it', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    async function* source() {
      yield 1;
      yield 2;
      throw new Error('input broke');
    }
    const out: Settled<number, unknown>[] = [];
    const results = collect(mapSettled(pool, (n: number) => n, source()), out);
    await pool.submitted(2);
    pool.settle(0);
    pool.settle(1);
    await expect(results).rejects.toThrow('input broke');
    expect(out.map(brief)).toEqual(['0:2', '1:4']);
  });

  test('a broken pool ends the iteration with BrokenPoolError', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    const out: Settled<number, unknown>[] = [];
    const results = collect(mapSettled(pool, (n: number) => n, [1, 2, 3]), out);
    await pool.submitted(3);
    pool.settle(0);
    pool.settle(1, { error: new BrokenPoolError('broken') });
    await expect(results).rejects.toBeInstanceOf(BrokenPoolError);
    expect(out.map(brief)).toEqual(['0:2']);
    expect(pool.batches[2]!.cancelled).toBe(true);
  });

  test('aborting the signal throws AbortError and cancels what is pending', { timeout: 5_000 }, async () => {
    const pool = new ManualPool();
    const controller = new AbortController();
    const results = collect(mapSettled(pool, (n: number) => n, [1, 2], { signal: controller.signal }));
    await pool.submitted(2);
    controller.abort();
    await expect(results).rejects.toBeInstanceOf(AbortError);
    expect(pool.batches.every((b) => b.cancelled)).toBe(true);
    const aborted = mapSettled(pool, (n: number) => n, [1], { signal: controller.signal });
    await expect(aborted.next()).rejects.toBeInstanceOf(AbortError);
  });

  test('bad arguments throw at once', () => {
    const pool = new ManualPool();
    expect(() => mapSettled({} as Pool, (n: number) => n, [])).toThrow(/pool/);
    expect(() => mapSettled(pool, (n: number) => n, 3 as never)).toThrow(/iterable/);
    expect(() => mapSettled(pool, (n: number) => n, [], { chunksize: 0 })).toThrow(/chunksize/);
    expect(() => mapSettled(pool, (n: number) => n, [], { chunksize: 4, buffersize: 2 })).toThrow(/buffersize/);
    expect(() => mapSettled(pool, (n: number) => n, [], { ordered: 'no' as never })).toThrow(/ordered/);
  });
});

describe('mapSettled on a ThreadPool', () => {
  test('every item settles, in order, past failures, with chunks', { timeout: 10_000 }, async () => {
    await using pool = new ThreadPool({ maxWorkers: 2 });
    const check = (n: number) => {
      if (n % 7 === 0) throw new RangeError(`multiple of 7: ${n}`);
      return n * n;
    };
    const all = await collect(mapSettled(pool, check, Array.from({ length: 200 }, (_, i) => i + 1), { chunksize: 3 }));
    expect(all.map((r) => r.index)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const r of all) {
      const n = r.item;
      if (n % 7 === 0) expect(r).toMatchObject({ ok: false, error: { name: 'RangeError', message: `multiple of 7: ${n}` } });
      else expect(r).toMatchObject({ ok: true, value: n * n });
    }
    expect(pool.stats).toMatchObject({ completed: 172, failed: 28 });
  });
});
