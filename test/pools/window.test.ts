/**
 * The window core against a pool settled by hand: order through the reorder buffer however far the
 * settled batches run ahead, fail-fast, cancellation (oldest first, each once), and the bounds.
 */
import { describe, expect, test } from 'vitest';
import { AbortError } from '../../src/errors.ts';
import type { BatchCallback, Pool } from '../../src/pools/Pool.ts';
import { BatchWindow, failureOf, type Outcome, type WindowOptions } from '../../src/pools/window.ts';

interface Run {
  readonly items: readonly number[];
  readonly callback: BatchCallback<number>;
  cancelled: unknown;
}

function handPool(): Pool & { runs: Run[] } {
  const runs: Run[] = [];
  return {
    maxWorkers: 2,
    runs,
    runBatch: (_fn, items, callback) => {
      const run: Run = { items: items as unknown as number[], callback: callback as BatchCallback<number>, cancelled: undefined };
      runs.push(run);
      return (reason) => {
        expect(run.cancelled).toBeUndefined(); // cancelled once at most
        run.cancelled = reason;
      };
    },
  };
}

const ok = (run: Run) => run.callback(undefined, { values: run.items.map((x) => x * 10) });

function windowOn(pool: Pool, options: Partial<WindowOptions> = {}) {
  let settles = 0;
  const window = new BatchWindow<number, number>(
    pool,
    (x: number) => x,
    { ordered: true, concurrency: Infinity, chunksize: 1, failFast: true, label: 'test', ...options },
    () => settles++,
  );
  const drain = () => {
    const out: Outcome<number, number>[] = [];
    for (let o = window.take(); o !== undefined; o = window.take()) out.push(o);
    return out;
  };
  return { window, drain, settles: () => settles };
}

describe('BatchWindow', () => {
  test('ordered: 100 batches settled last to first come out first to last', () => {
    const pool = handPool();
    const { window, drain, settles } = windowOn(pool);
    for (let i = 0; i < 100; i++) window.start([i]);
    expect(window.running).toBe(100);
    for (let i = 99; i >= 1; i--) ok(pool.runs[i]!);
    expect(window.held).toBe(99);
    expect(drain()).toEqual([]); // batch 0 still runs
    ok(pool.runs[0]!);
    const out = drain();
    expect(out.map((o) => o.values[0])).toEqual(Array.from({ length: 100 }, (_, i) => i * 10));
    expect(out.map((o) => o.start)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(settles()).toBe(100);
    expect(window.idle).toBe(true);
  });

  test('ordered, interleaved: starting while earlier batches are held keeps every result in its place', () => {
    const pool = handPool();
    const { window, drain } = windowOn(pool);
    const seen: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 7; k++) window.start([next++]);
      // Settle all but the oldest still running, then the oldest: the ring grows and wraps.
      const open = pool.runs.filter((r) => r.cancelled === undefined && !('done' in r));
      for (const run of open.slice(1)) {
        ok(run);
        Object.assign(run, { done: true });
      }
      if (round % 3 === 2) {
        ok(open[0]!);
        Object.assign(open[0]!, { done: true });
      }
      for (const o of drain()) seen.push(o.values[0]!);
    }
    for (const run of pool.runs.filter((r) => !('done' in r))) ok(run);
    for (const o of drain()) seen.push(o.values[0]!);
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => i * 10));
    expect(window.idle).toBe(true);
  });

  test('unordered: outcomes in the order they settle', () => {
    const pool = handPool();
    const { window, drain } = windowOn(pool, { ordered: false });
    for (let i = 0; i < 5; i++) window.start([i]);
    for (const i of [3, 0, 4]) ok(pool.runs[i]!);
    expect(drain().map((o) => o.items[0])).toEqual([3, 0, 4]);
    ok(pool.runs[2]!);
    ok(pool.runs[1]!);
    expect(drain().map((o) => o.items[0])).toEqual([2, 1]);
    expect(window.idle).toBe(true);
  });

  test('fail-fast: later batches are cancelled oldest first, later held outcomes dropped, earlier ones still handed out', () => {
    const pool = handPool();
    const { window, drain } = windowOn(pool);
    for (let i = 0; i < 40; i++) window.start([i]);
    window.input.push(99);
    ok(pool.runs[30]!); // held, after the failure: dropped
    const boom = new Error('boom');
    pool.runs[20]!.callback(undefined, { values: [0], errors: [boom] });
    expect(window.stopped).toBe(true);
    expect(window.canStart()).toBe(false);
    expect(window.input.length).toBe(0);
    const cancelled = pool.runs.map((r, i) => (r.cancelled ? i : -1)).filter((i) => i >= 0);
    expect(cancelled).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i > 20 && i !== 30));
    expect(pool.runs[21]!.cancelled).toBeInstanceOf(AbortError);
    expect((pool.runs[21]!.cancelled as AbortError).cause).toBe(boom);
    expect(window.running).toBe(20);
    expect(window.held).toBe(1);
    for (let i = 0; i < 20; i++) ok(pool.runs[i]!);
    const out = drain();
    expect(out.map((o) => o.start)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(failureOf(out[20]!)).toBe(boom);
    expect(out[20]!.ok).toBe(0);
    expect(window.idle).toBe(true);
  });

  test('an earlier failure after a later one: the later one is dropped', () => {
    const pool = handPool();
    const { window, drain } = windowOn(pool);
    for (let i = 0; i < 4; i++) window.start([i]);
    const late = new Error('late');
    const early = new Error('early');
    pool.runs[2]!.callback(late, undefined);
    pool.runs[1]!.callback(early, undefined);
    ok(pool.runs[0]!);
    const out = drain();
    expect(out.map((o) => o.start)).toEqual([0, 1]);
    expect(failureOf(out[1]!)).toBe(early);
    expect(window.idle).toBe(true);
  });

  test('close cancels every running batch once, oldest first, and drops what is held', () => {
    const pool = handPool();
    const order: number[] = [];
    const counted: Pool = {
      maxWorkers: 2,
      runBatch: (fn, items, callback) => {
        const cancel = pool.runBatch(fn, items, callback);
        return (reason) => {
          order.push(items[0] as number);
          cancel(reason);
        };
      },
    };
    const { window } = windowOn(counted, { ordered: false });
    for (let i = 0; i < 10; i++) window.start([i]);
    for (const i of [9, 0, 5]) ok(pool.runs[i]!);
    const reason = new AbortError('bye');
    window.close(reason);
    window.close(reason);
    expect(order).toEqual([1, 2, 3, 4, 6, 7, 8]);
    expect(window.held).toBe(0);
    expect(window.running).toBe(0);
    expect(window.idle).toBe(true);
    ok(pool.runs[1]!); // a pool that calls back after cancelling anyway: ignored
    expect(window.take()).toBeUndefined();
  });

  test('concurrency bounds the running batches, and (ordered) the held ones', () => {
    const pool = handPool();
    const { window, drain } = windowOn(pool, { concurrency: 3, chunksize: 2 });
    for (let i = 0; i < 20; i++) window.input.push(i);
    window.fill();
    expect(pool.runs.map((r) => r.items)).toEqual([[0, 1], [2, 3], [4, 5]]);
    ok(pool.runs[1]!);
    ok(pool.runs[2]!);
    window.fill();
    expect(window.running).toBe(3); // two held, three running
    expect(pool.runs.length).toBe(5);
    ok(pool.runs[3]!);
    window.fill();
    expect(window.held).toBe(3);
    expect(window.canStart()).toBe(false); // the reorder buffer is full
    expect(pool.runs.length).toBe(5);
    ok(pool.runs[0]!);
    expect(drain().map((o) => o.start)).toEqual([0, 2, 4, 6]);
    window.fill();
    expect(pool.runs.length).toBe(7); // batch 4 still runs: two more
    expect(pool.runs.slice(5).map((r) => r.items)).toEqual([[10, 11], [12, 13]]);
  });

  test('a pool that throws from runBatch: the batch is not counted as running', () => {
    const { window } = windowOn({
      maxWorkers: 1,
      runBatch: () => {
        throw new Error('refused');
      },
    });
    expect(() => window.start([1])).toThrow('refused');
    expect(window.running).toBe(0);
  });
});
