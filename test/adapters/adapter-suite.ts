/**
 * The operator contract over every adapter (one suite, four libraries): order, the concurrency
 * bound, an error after the results before it, unsubscribing cancels; and `runBatch` itself.
 * Real library pools, ordinary async tests (TestScheduler cannot virtualise their messages), no
 * sleeps as synchronisation: tasks report over the gate's socket (./gate.ts), and where a task
 * "sleeps", that is its work, not the test waiting.
 */
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import { mapSettled } from '../../src/streams/mapSettled.ts';
import { TaskError, TaskTimeoutError } from '../../src/errors.ts';
import type { AnyFn, BatchResult, Pool, Task, TaskRef } from '../../src/pools/Pool.ts';
import { prng } from '../fixtures/prng.ts';
import { maxOverlap, type Span } from '../fixtures/spans.ts';
import { openGate } from './gate.ts';

export interface Opened {
  /** The library's pool behind the adapter. */
  readonly pool: Pool;
  /** A reference to a task of fixtures/tasks.mjs, as this library's workers see it. */
  task<F extends AnyFn>(name: string): TaskRef<F>;
  /** Terminates the library pool; resolves once its workers are gone. */
  close(): Promise<void>;
  /** Workers the library has alive now (0 after `close`). */
  alive(): number;
}

export interface AdapterSubject {
  readonly name: string;
  /** A library pool of `workers` workers, adapted. */
  open(workers: number): Promise<Opened>;
  /** Whether cancelling a running task stops it (every library but threads.js). */
  readonly stopsRunning: boolean;
  /**
   * Whether a task's thrown non-Error reaches the adapter as is (then it arrives as our TaskError);
   * workerpool turns it into an Error of its own (losing a string's text).
   */
  readonly passesThrownValues: boolean;
  /** A task this adapter refuses, and what its error says. */
  readonly refused: { readonly task: Task; readonly message: string };
}

type Item = { i: number; ms: number };
type Gated = { path: string; value: number };

/** Runs one batch and resolves with what its callback got, noting whether it came synchronously. */
function runBatch<R>(pool: Pool, fn: Task, items: unknown[], options?: { timeout?: number }) {
  let inCall = true;
  let calls = 0;
  const settled = new Promise<{ error: Error | undefined; result: BatchResult<R> | undefined; sync: boolean }>((resolve) => {
    pool.runBatch<unknown, R>(fn as Task<(v: unknown) => R>, items, (error, result) => {
      calls++;
      resolve({ error, result, sync: inCall });
    }, options);
  });
  inCall = false;
  return { settled, calls: () => calls };
}

export function adapterSuite(subject: AdapterSubject): void {
  const opened: Opened[] = [];
  const open = async (workers: number) => {
    const o = await subject.open(workers);
    opened.push(o);
    return o;
  };
  /** One pool of 4 workers for the tests that leave its workers alone (fewer start-ups). */
  let common: Promise<Opened> | undefined;
  const shared = () => (common ??= subject.open(4));
  /** One pool of 1 worker for the runBatch cancel tests, each of which leaves it idle. */
  let single: Promise<Opened> | undefined;
  const solo = () => (single ??= subject.open(1));
  afterAll(async () => {
    for (const pending of [common, single]) {
      if (pending === undefined) continue;
      const o = await pending;
      await o.close();
      expect(o.alive()).toBe(0);
    }
  });
  afterEach(async () => {
    // Nothing outlives a test: every library pool is terminated and reports no worker left.
    for (const o of opened.splice(0)) {
      await o.close();
      expect(o.alive()).toBe(0);
    }
  });

  describe(`${subject.name}: the operator contract`, () => {
    test('maxWorkers comes from the library pool; results come in input order whatever the durations', async () => {
      const { pool, task } = await shared();
      expect(pool.maxWorkers).toBe(4);
      const work = task<(item: Item) => number>('work');
      const random = prng(7);
      const items = Array.from({ length: 30 }, (_, i) => ({ i, ms: Math.floor(random() * 12) }));
      const [ordered, unordered] = await Promise.all([
        lastValueFrom(from(items).pipe(mapOnPool(pool, work), toArray())),
        lastValueFrom(from(items).pipe(mapOnPool(pool, work, { ordered: false }), toArray())),
      ]);
      expect(ordered).toEqual(items.map((x) => x.i));
      // The durations really reorder completions: unordered, the same run comes out shuffled.
      expect([...unordered].sort((a, b) => a - b)).toEqual(items.map((x) => x.i));
      expect(unordered).not.toEqual(items.map((x) => x.i));
    });

    test('never more than `concurrency` tasks run at once, even with more workers', async () => {
      const { pool, task } = await shared();
      const items = Array.from({ length: 10 }, (_, i) => ({ i, ms: 25 }));
      const spans = await lastValueFrom(from(items).pipe(mapOnPool(pool, task<(item: Item) => Span>('timed'), { concurrency: 2 }), toArray()));
      expect(spans.map((s) => s.i)).toEqual(items.map((x) => x.i));
      expect(maxOverlap(spans)).toBe(2); // ≤ 2 is the bound; = 2 shows the run was parallel at all
    });

    test('an item error comes after every earlier result, with its message', async () => {
      const { pool, task } = await shared();
      // Item 3 fails at once while 0–2 are still working: they are emitted first.
      const items = [0, 1, 2, 3, 4, 5].map((i) => ({ i, ms: i < 3 ? 60 : 0, fail: 3 }));
      const values: number[] = [];
      const error = await new Promise<unknown>((resolve) =>
        from(items)
          .pipe(mapOnPool(pool, task<(item: Item & { fail: number }) => number>('failing')))
          .subscribe({ next: (x) => values.push(x), error: resolve, complete: () => resolve(undefined) }),
      );
      expect(values).toEqual([0, 1, 2]);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('item 3 failed');
    });

    test(
      subject.stopsRunning
        ? 'unsubscribing cancels: queued tasks never run, running ones are stopped, the pool serves on'
        : 'unsubscribing cancels: queued tasks never run, running ones finish unseen, the pool serves on',
      async () => {
        await using gate = await openGate();
        const { pool, task } = await open(2);
        const gated = task<(item: Gated) => Promise<number>>('gated');
        const results: number[] = [];
        const input = new Subject<Gated>();
        // concurrency 4 on 2 workers: 0 and 1 run, 2 and 3 wait in the library's own queue.
        const live = input.pipe(mapOnPool(pool, gated, { concurrency: 4 })).subscribe((x) => results.push(x));
        for (const value of [0, 1, 2, 3]) input.next({ path: gate.path, value });
        await Promise.all([gate.whenStarted(0), gate.whenStarted(1)]);
        live.unsubscribe();
        if (subject.stopsRunning) {
          // Their workers were terminated: the sockets close without a `done`.
          await Promise.all([gate.whenClosed(0), gate.whenClosed(1)]);
          expect(gate.finished).toEqual([]);
        } else {
          // threads.js cannot stop a running task: it runs to its end, and its result goes nowhere.
          gate.release(0);
          gate.release(1);
          await Promise.all([gate.whenClosed(0), gate.whenClosed(1)]);
          expect([...gate.finished].sort()).toEqual([0, 1]);
        }
        // The pool still serves; 2 and 3 were withdrawn from its queue, or they would have run before this.
        const after = await lastValueFrom(from([7, 8]).pipe(mapOnPool(pool, task<(x: number) => number>('inc')), toArray()));
        expect(after).toEqual([8, 9]);
        expect([...gate.started].sort()).toEqual([0, 1]);
        expect(results).toEqual([]);
      },
    );
    test('mapSettled over the adapter yields every outcome, failures included, in input order', async () => {
      const { pool, task } = await shared();
      const items = [0, 1, 2, 3].map((i) => ({ i, ms: 0, fail: 2 }));
      const outcomes = [];
      for await (const r of mapSettled(pool, task<(item: Item & { fail: number }) => number>('failing'), items)) {
        outcomes.push(r.ok ? r.value : `error: ${r.error.message}`);
      }
      expect(outcomes).toEqual([0, 1, 'error: item 2 failed', 3]);
    });
  });

  describe(`${subject.name}: runBatch`, () => {
    test('the callback comes once, never synchronously; per-item errors are in BatchResult.errors', async () => {
      const { pool, task } = await shared();
      const items = [0, 1, 1001, 3].map((i) => ({ i, ms: 0, fail: 1 })); // 1 throws an Error, 1001 a string
      const batch = runBatch<number>(pool, task('failing'), items);
      const { error, result, sync } = await batch.settled;
      expect(sync).toBe(false);
      expect(error).toBeUndefined();
      expect(result!.values[0]).toBe(0);
      expect(result!.values[3]).toBe(3);
      expect(result!.errors![0]).toBeUndefined();
      expect(result!.errors![1]!.message).toBe('item 1 failed');
      expect(result!.errors![2]).toBeInstanceOf(Error); // a thrown string still arrives as an Error
      if (subject.passesThrownValues) {
        // The library hands the string over as the rejection: it arrives wrapped, as from our pools.
        expect(result!.errors![2]).toBeInstanceOf(TaskError);
        expect(result!.errors![2]!.message).toBe("Task threw a non-Error value: 'item 1001 threw a string'");
        expect((result!.errors![2] as TaskError).value).toBe('item 1001 threw a string');
      }
      expect(result!.errors![3]).toBeUndefined();
      expect(batch.calls()).toBe(1);
      const empty = runBatch(pool, task('inc'), []);
      expect(await empty.settled).toEqual({ error: undefined, result: { values: [] }, sync: false });
    });

    test('a task the library cannot run settles the batch with a TypeError saying what it runs, asynchronously', async () => {
      const { pool } = await shared();
      const { error, result, sync } = await runBatch(pool, subject.refused.task, [1]).settled;
      expect(sync).toBe(false);
      expect(result).toBeUndefined();
      expect(error).toBeInstanceOf(TypeError);
      expect(error!.message).toContain(subject.refused.message);
    });

    test('a queued batch cancelled never runs and never calls back; the ones after it run', async () => {
      await using gate = await openGate();
      const { pool, task } = await solo();
      const gated = task('gated');
      const first = runBatch<number>(pool, gated, [{ path: gate.path, value: 0 }]);
      await gate.whenStarted(0); // the only worker is busy: what follows waits in the library's queue
      const calls: unknown[] = [];
      const cancel = pool.runBatch(gated, [{ path: gate.path, value: 1 }], (...args) => calls.push(args));
      const third = runBatch<number>(pool, gated, [{ path: gate.path, value: 2 }]);
      cancel();
      cancel(); // idempotent
      gate.release(0);
      expect((await first.settled).result!.values).toEqual([0]);
      await gate.whenStarted(2);
      gate.release(2);
      expect((await third.settled).result!.values).toEqual([2]);
      expect(gate.started).toEqual([0, 2]); // 1 never started
      expect(calls).toEqual([]);
    });

    test('a running batch cancelled gets no callback, and the pool serves the next batch', async () => {
      await using gate = await openGate();
      const { pool, task } = await solo();
      const calls: unknown[] = [];
      const cancel = pool.runBatch(task<(item: Gated) => number>('gated'), [{ path: gate.path, value: 0 }], (...args) => calls.push(args));
      await gate.whenStarted(0);
      cancel(new Error('not needed'));
      if (!subject.stopsRunning) gate.release(0);
      await gate.whenClosed(0);
      const next = await runBatch<number>(pool, task('inc'), [41]).settled;
      expect(next.result!.values).toEqual([42]);
      expect(calls).toEqual([]);
    });

    test('`timeout` fails the batch with TaskTimeoutError and cancels the item through the library', async () => {
      await using gate = await openGate();
      const { pool, task } = await solo();
      expect((await runBatch<number>(pool, task('inc'), [0]).settled).result!.values).toEqual([1]); // the worker is up
      const { error, sync } = await runBatch(pool, task('gated'), [{ path: gate.path, value: 0 }], { timeout: 250 }).settled;
      expect(sync).toBe(false);
      expect(error).toBeInstanceOf(TaskTimeoutError);
      expect((error as TaskTimeoutError).timeout).toBe(250);
      if (gate.started.length === 0 && subject.stopsRunning) {
        // It was still queued when the time ran out (a loaded machine): withdrawn, it never starts.
        expect((await runBatch<number>(pool, task('inc'), [1]).settled).result!.values).toEqual([2]);
        expect(gate.started).toEqual([]);
        return;
      }
      await gate.whenStarted(0);
      if (!subject.stopsRunning) gate.release(0); // threads.js: it runs on; only the batch gave up
      await gate.whenClosed(0);
      expect(gate.finished).toEqual(subject.stopsRunning ? [] : [0]);
    });
  });
}
