/**
 * What must hold for mapOnThreads and mapOnProcesses alike, run against each runtime (one suite,
 * two runtimes). Real workers, ordinary async tests: no virtual time, and no sleeps as
 * synchronisation — tasks report their start over the gate's socket (test/fixtures/gate.ts) and
 * wait for the test to release them; where a task "sleeps", that is its work, not the test waiting.
 */
import { Subject, firstValueFrom, from, lastValueFrom, take, toArray, type OperatorFunction } from 'rxjs';
import { describe, expect, test } from 'vitest';
import type { WorkerPool } from '../../src/pools/WorkerPool.ts';
import type { Task } from '../../src/pools/Pool.ts';
import { task } from '../../src/pools/task.ts';
import { openGate } from '../fixtures/gate.ts';
import { prng } from '../fixtures/prng.ts';
import { maxOverlap } from '../fixtures/spans.ts';

/** A pool subclass that remembers its shutdown calls (installed with vi.mock by each spec). */
export interface RecordedPool extends WorkerPool {
  readonly shutdowns: unknown[];
}

type Operator = <T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, options?: Record<string, unknown>) => OperatorFunction<T, R>;

const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
const gatedItem = task<(item: { path: string; value: number }) => Promise<number>>(tasks, 'gatedItem');
const whoAmI = task<() => { worker: string; run: number }>(tasks, 'whoAmI');

export { prng };

/** The task's work: block for `ms` (Atomics.wait on a fresh buffer never woken), return `i`. */
const work = (item: { i: number; ms: number }) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, item.ms);
  return item.i;
};

/** Like `work`, and says when it ran, on the wall clock all workers share. */
const timed = (item: { i: number; ms: number }) => {
  const start = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, item.ms);
  return { i: item.i, start, end: Date.now() };
};

export function operatorSuite(name: string, operator: Operator, created: RecordedPool[]): void {
  const latest = () => created[created.length - 1]!;

  describe(`${name}: order and concurrency`, () => {
    test('results come in input order whatever the task durations', { timeout: 15_000 }, async () => {
      const random = prng(7);
      const items = Array.from({ length: 40 }, (_, i) => ({ i, ms: Math.floor(random() * 15) }));
      // Three subscriptions at once (three pools): their worker start-ups overlap.
      const [ordered, chunked, unordered] = await Promise.all([
        lastValueFrom(from(items).pipe(operator(work, { maxWorkers: 3 }), toArray())),
        lastValueFrom(from(items).pipe(operator(work, { maxWorkers: 3, chunksize: 4 }), toArray())),
        lastValueFrom(from(items).pipe(operator(work, { maxWorkers: 3, ordered: false }), toArray())),
      ]);
      expect(ordered).toEqual(items.map((x) => x.i));
      expect(chunked).toEqual(items.map((x) => x.i));
      // The durations really reorder completions: unordered, the same run comes out shuffled.
      expect([...unordered].sort((a, b) => a - b)).toEqual(items.map((x) => x.i));
      expect(unordered).not.toEqual(items.map((x) => x.i));
    });

    test('never more than `concurrency` tasks run at once, even with more workers', { timeout: 15_000 }, async () => {
      const items = Array.from({ length: 12 }, (_, i) => ({ i, ms: 25 }));
      const spans = await lastValueFrom(from(items).pipe(operator(timed, { maxWorkers: 4, concurrency: 2 }), toArray()));
      expect(spans.map((s) => s.i)).toEqual(items.map((x) => x.i));
      expect(maxOverlap(spans)).toBe(2); // ≤ 2 is the bound; = 2 shows the run was parallel at all
    });
  });

  describe(`${name}: a pool per subscription, started lazily, shut down at the end`, () => {
    test('no worker before the first value; every subscription gets its own pool', { timeout: 15_000 }, async () => {
      const before = created.length;
      const input = new Subject<number>();
      const first = input.pipe(operator<number, { worker: string; run: number }>(whoAmI as never, { maxWorkers: 1 }));
      const a = firstValueFrom(first);
      expect(created.length).toBe(before + 1);
      const poolA = latest();
      expect(poolA.stats.workers).toBe(0); // subscribed, no value yet: nothing started
      const b = firstValueFrom(input.pipe(operator<number, { worker: string; run: number }>(whoAmI as never, { maxWorkers: 1 })));
      expect(created.length).toBe(before + 2);
      const poolB = latest();
      expect(poolB).not.toBe(poolA);
      expect(poolB.stats.workers).toBe(0);
      input.next(1);
      expect(poolA.stats.workers).toBe(1); // the first value started one worker in each pool
      expect(poolB.stats.workers).toBe(1);
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.worker).not.toBe(rb.worker); // different workers, one per pool
      expect(ra.run).toBe(1); // each pool's worker was new
      expect(rb.run).toBe(1);
    });

    test('unsubscribing cancels the running tasks and shuts the pool down: no worker is left', { timeout: 15_000 }, async () => {
      await using gate = await openGate();
      const results: number[] = [];
      const input = new Subject<{ path: string; value: number }>();
      const live = input.pipe(operator(gatedItem, { maxWorkers: 2 })).subscribe((x) => results.push(x));
      const pool = latest();
      for (const value of [0, 1, 2, 3]) input.next({ path: gate.path, value });
      const workers = await Promise.all([gate.started(0), gate.started(1)]); // both running, held
      expect(pool.stats.busy).toBe(2);
      live.unsubscribe();
      expect(pool.shutdowns).toEqual([{ wait: false, cancelPending: true }]);
      expect(pool.stats.workers).toBe(0); // both killed (they were running) and not replaced
      await pool.shutdown(); // resolves once every worker has exited
      expect(results).toEqual([]);
      expect([...gate.log].sort()).toEqual([0, 1]); // 2 and 3 never started (0 and 1 in either order)
      if (workers.every((w) => w.thread === 0)) {
        // Child processes: their pids are gone.
        for (const { pid } of workers) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
      }
    });

    test('completing and erroring shut the pool down too', { timeout: 15_000 }, async () => {
      await expect(lastValueFrom(from([1, 2]).pipe(operator((x: number) => x + 1, { maxWorkers: 1 }), toArray()))).resolves.toEqual([2, 3]);
      expect(latest().shutdowns).toEqual([{ wait: false, cancelPending: true }]);
      const failing = (x: number) => {
        if (x === 2) throw new RangeError(`no ${x}`);
        return x;
      };
      const seen: number[] = [];
      const error = await lastValueFrom(from([1, 2, 3]).pipe(operator(failing, { maxWorkers: 2 }))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError); // the remote error keeps its class and message
      expect((error as Error).message).toBe('no 2');
      expect(latest().shutdowns).toEqual([{ wait: false, cancelPending: true }]);
      // take(n) unsubscribes upstream as soon as it has enough.
      await lastValueFrom(from([1, 2, 3, 4]).pipe(operator((x: number) => x, { maxWorkers: 2 }), take(1))).then((x) => seen.push(x));
      expect(seen).toEqual([1]);
      expect(latest().shutdowns).toEqual([{ wait: false, cancelPending: true }]);
    });
  });

  describe(`${name}: errors`, () => {
    test('an item error comes after every earlier result', { timeout: 15_000 }, async () => {
      const fn = (item: { i: number; ms: number }) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, item.ms);
        if (item.i === 3) throw new Error('item 3 failed');
        return item.i;
      };
      // Item 3 fails at once while 0–2 are still working: they are emitted first.
      const items = [0, 1, 2, 3, 4, 5].map((i) => ({ i, ms: i < 3 ? 60 : 0 }));
      const values: number[] = [];
      const error = await new Promise<unknown>((resolve) =>
        from(items)
          .pipe(operator(fn, { maxWorkers: 4 }))
          .subscribe({ next: (x) => values.push(x), error: resolve, complete: () => resolve(undefined) }),
      );
      expect(values).toEqual([0, 1, 2]);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('item 3 failed');
    });
  });
}
