/**
 * Cancellation costs at most one worker per task that was really running (issue 12): cancelling
 * queued or pipelined tasks never starts or stops a worker, and a burst of cancellations is one
 * pass (a replacement worker never takes a task about to be cancelled in the same burst). Workers
 * started are counted with async_hooks (WORKER / PROCESSWRAP resources created).
 */
import { getEventListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Subject } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { AbortError, mapOnPool, mapOnProcesses, mapOnThreads } from '../../src/index.ts';
import { outcome, rejection, runtimes, scratch, t, track, until, within } from './fixtures/harness.ts';

const DEADLINE = 20_000;

/** Blocks the worker's thread for `ms` (a workload, not a synchronisation), then returns `i`. */
const busy = (i: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
  return i;
};

describe.each(runtimes)('$name', (rt) => {
  const workerResource = rt.thread ? 'WORKER' : 'PROCESSWRAP';

  test('aborting tasks pipelined behind a running one costs no worker: none of them runs, the running one finishes', async () => {
    using dir = scratch();
    using tracker = track();
    await using pool = rt.make({ maxWorkers: 1 });
    for (let i = 0; i < 5; i++) await pool.submit(t.step, [dir.dir, `warm${i}`, 'fast']); // measured fast: a deep pipeline
    const head = pool.submit(t.step, [dir.dir, 'head', 'hold']); // blocks its worker's thread: it reads no message
    const controller = new AbortController();
    const behind = Array.from({ length: 40 }, (_, i) => outcome(pool.submit(t.step, [dir.dir, `b${i}`, 'mark'], { signal: controller.signal })));
    await until(() => dir.has('head.started'), DEADLINE, 'the head task started');
    controller.abort(new Error('not needed'));
    for (const result of await Promise.all(behind)) {
      expect(result.ok).toBe(false);
      expect(result.ok || result.error).toBeInstanceOf(AbortError);
    }
    // The worker learns of the cancellations only once the head returns.
    writeFileSync(`${dir.dir}/head.release`, '');
    expect(await head).toBe('head');
    expect(await pool.submit(t.step, [dir.dir, 'after', 'fast'])).toBe('after'); // the same worker, still serving
    for (let i = 0; i < 40; i++) expect(dir.has(`b${i}.ran`)).toBe(false);
    expect(tracker.created(workerResource)).toBe(1);
    expect(pool.stats.cancelled).toBe(40);
    expect(pool.stats.failed).toBe(0);
  }, DEADLINE);

  test('300 tasks sharing one AbortSignal: one listener, and aborting costs only the running tasks\' workers', async () => {
    using dir = scratch();
    using tracker = track();
    await using pool = rt.make({ maxWorkers: 2 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const tasks = Array.from({ length: 300 }, (_, i) => rejection(pool.submit(t.step, [dir.dir, `s${i}`, 'hold'], { signal: controller.signal })));
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      await until(() => dir.has('s0.started') && dir.has('s1.started'), DEADLINE, 'two tasks running');
      controller.abort();
      for (const error of await Promise.all(tasks)) expect(error).toBeInstanceOf(AbortError);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      // The two running tasks cost their workers; nothing else started one.
      await within(pool.shutdown(), 10_000, 'shutdown');
      expect(tracker.created(workerResource)).toBe(2);
      for (let i = 2; i < 300; i++) expect(dir.has(`s${i}.started`)).toBe(false);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, DEADLINE);

  test('leaving a map loop early cancels everything pending in one pass: no worker is started to run a cancelled task', async () => {
    using tracker = track();
    await using pool = rt.make({ maxWorkers: 2 });
    let n = 0;
    for await (const y of pool.map(busy, Array.from({ length: 20_000 }, (_, i) => i))) {
      expect(y).toBe(n);
      if (++n === 10) break;
    }
    await within(pool.shutdown(), 10_000, 'shutdown');
    // At most the two first workers and one replacement each for a task that was running.
    expect(tracker.created(workerResource)).toBeLessThanOrEqual(4);
    expect(pool.stats.completed).toBeGreaterThanOrEqual(10);
    // map had read ahead past the 10 taken: what it had submitted and not run was cancelled, not run.
    expect(pool.stats.cancelled).toBeGreaterThan(0);
    expect(pool.stats.completed).toBeLessThan(20_000);
  }, DEADLINE);

  test('unsubscribing an operator at concurrency 64 stops at most its running tasks\' workers', async () => {
    using tracker = track();
    const operator = rt.thread ? mapOnThreads : mapOnProcesses;
    const input = new Subject<number>();
    let first!: () => void;
    const gotOne = new Promise<void>((resolve) => (first = resolve));
    const subscription = input.pipe(operator(busy, { maxWorkers: 2, concurrency: 64 })).subscribe(() => first());
    for (let i = 0; i < 1000; i++) input.next(i);
    await within(gotOne, DEADLINE, 'a first result');
    subscription.unsubscribe();
    await until(() => tracker.leftovers().children.length === 0 && !tracker.leftovers().resources.includes(workerResource), DEADLINE, 'every worker gone');
    expect(tracker.created(workerResource)).toBe(2);
  }, DEADLINE);

  test('mapOnPool on a shared pool: unsubscribing cancels its batches; the pool keeps its workers for the next subscription', async () => {
    using tracker = track();
    await using pool = rt.make({ maxWorkers: 2 });
    await pool.submit(busy, [0]);
    await pool.submit(busy, [0]); // measured
    const input = new Subject<number>();
    let first!: () => void;
    const gotOne = new Promise<void>((resolve) => (first = resolve));
    const subscription = input.pipe(mapOnPool(pool, busy, { concurrency: 64 })).subscribe(() => first());
    for (let i = 0; i < 500; i++) input.next(i);
    await within(gotOne, DEADLINE, 'a first result');
    subscription.unsubscribe();
    expect(await pool.submit(busy, [7])).toBe(7);
    // The workers that were running a cancelled task were replaced; no other worker was started.
    expect(tracker.created(workerResource)).toBeLessThanOrEqual(2 + 2);
  }, DEADLINE);
});
