/**
 * Nothing left behind: after an operator's stream completes, errors or is unsubscribed, and after
 * `shutdown()`, no worker thread or child process is alive, no library timer is pending, no
 * abort listener remains, and no active handle exists that did not exist before. What is left is
 * polled for (every turn of the event loop, up to a deadline), never waited for with a sleep.
 * And a script that never calls shutdown exits by itself.
 */
import { getEventListeners } from 'node:events';
import { from, lastValueFrom, range, toArray } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { AbortError, ProcessPool, TaskTimeoutError, flatMapOnPool, mapOnPool, mapOnProcesses, mapOnThreads, task } from '../../src/index.ts';
import { openGate } from '../fixtures/gate.ts';
import type * as StreamTasks from '../fixtures/stream-tasks.mjs';
import { NOTHING_LEFT, fixture, openRendezvous, outcome, rejection, runScript, runtimes, t, track, until, within } from './fixtures/harness.ts';

const DEADLINE = 20_000;
const square = (n: number) => n * n;
const streamTasks = new URL('../fixtures/stream-tasks.mjs', import.meta.url);
const s = {
  count: task<typeof StreamTasks.count>(streamTasks, 'count'),
  countForever: task<typeof StreamTasks.countForever>(streamTasks, 'countForever'),
  countForeverItem: task<typeof StreamTasks.countForeverItem>(streamTasks, 'countForeverItem'),
};

describe.each(runtimes)('$name', (rt) => {
  const operator = rt.thread ? mapOnThreads : mapOnProcesses;
  const name = rt.thread ? 'mapOnThreads' : 'mapOnProcesses';

  if (rt.thread) {
    test('inline and .js tasks leave no esbuild zombie; a TypeScript task module leaves no process behind once tsx has compiled it; its first compile in a thread leaves at most one esbuild zombie (known tsx issue)', async () => {
      // In a process of its own: another test's workers ending meanwhile would add zombies of theirs.
      const run = await runScript(fixture('tsx-zombies.ts'), [], 30_000);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const report = JSON.parse(run.stdout) as { afterJs: number; jsResults: number[]; afterFirstCompile: number; results: number[]; leftovers: unknown; afterSecondPool: number };
      expect(report.jsResults).toEqual([3, 4, 5, 6]);
      expect(report.afterJs).toBe(0);
      expect(report.afterFirstCompile).toBeLessThanOrEqual(1);
      expect(report.results).toEqual(Array.from({ length: 12 }, (_, n) => n + 1));
      expect(report.leftovers).toEqual(NOTHING_LEFT);
      expect(report.afterSecondPool).toBe(0);
    }, DEADLINE);
  }

  test('the tracker sees what a live pool holds (worker, idle timer, task timer) and sees it go at shutdown', async () => {
    await using rv = await openRendezvous();
    using tracker = track();
    const pool = rt.make({ maxWorkers: 2, idleTimeout: 60_000 });
    await Promise.all([pool.submit(t.echo, [1]), pool.submit(t.echo, [2])]); // two workers, both idle
    rv.hold('busy');
    const busy = pool.submit(t.hello, [rv.path, 'busy'], { timeout: 60_000 });
    await rv.started('busy');
    const held = tracker.leftovers();
    expect(held.resources).toContain(rt.thread ? 'WORKER' : 'PROCESSWRAP');
    expect(held.resources.filter((r) => /^Timeout \(.*Deadline\.ts/.test(r)).length).toBeGreaterThanOrEqual(2); // idle + task timer
    if (!rt.thread) expect(held.children.length).toBeGreaterThan(0);
    rv.release('busy');
    await busy;
    await within(pool.shutdown(), 10_000, 'shutdown');
    await rv[Symbol.asyncDispose]();
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, DEADLINE);

  test(`${name}: after complete, nothing is left`, async () => {
    using tracker = track();
    const out = await within(lastValueFrom(range(1, 40).pipe(operator(square, { maxWorkers: 2 }), toArray())), 15_000, 'completion');
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => square(i + 1)));
    expect(tracker.created(rt.thread ? 'WORKER' : 'PROCESSWRAP')).toBeGreaterThan(0); // it did start workers …
    expect(await tracker.settle()).toEqual(NOTHING_LEFT); // … and none is left
  }, DEADLINE);

  test(`${name}: after error, nothing is left`, async () => {
    using tracker = track();
    const failing = (n: number) => {
      if (n === 7) throw new RangeError(`item ${n} is out of range`);
      return n;
    };
    const error = await within(rejection(lastValueFrom(range(1, 40).pipe(operator(failing, { maxWorkers: 2 })))), 15_000, 'the error');
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('item 7 is out of range');
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, DEADLINE);

  test(`${name}: after unsubscribe with tasks running, nothing is left`, async () => {
    await using rv = await openRendezvous();
    using tracker = track();
    // Unsubscribed at once, while its workers are still starting.
    range(0, 10).pipe(operator(square, { maxWorkers: 2 })).subscribe().unsubscribe();
    const items = Array.from({ length: 10 }, (_, i) => ({ path: rv.path, key: `item-${i}` }));
    const running = from(items).pipe(operator(t.helloThenBlockItem, { maxWorkers: 2 }));
    const emitted: unknown[] = [];
    const live = running.subscribe({ next: (v) => emitted.push(v) });
    await within(Promise.all([rv.started('item-0'), rv.started('item-1')]), 10_000, 'two tasks to start');
    live.unsubscribe(); // both workers are blocked for good: only killing them ends them
    expect(emitted).toEqual([]);
    await rv[Symbol.asyncDispose]();
    expect(await tracker.settle(10_000)).toEqual(NOTHING_LEFT);
    expect(rv.count('item-2')).toBe(0); // queued items never ran
  }, DEADLINE);

  test('mapOnPool: unsubscribe cancels only its own batches; the shared pool keeps serving; after shutdown nothing is left', async () => {
    await using rv = await openRendezvous();
    using tracker = track();
    const pool = rt.make({ maxWorkers: 2, idleTimeout: 60_000 });
    const items = [0, 1, 2, 3].map((i) => ({ path: rv.path, key: `held-${i}` }));
    const live = from(items).pipe(mapOnPool(pool, t.helloThenBlockItem, { concurrency: 2 })).subscribe();
    await within(Promise.all([rv.started('held-0'), rv.started('held-1')]), 10_000, 'two tasks to start');
    live.unsubscribe(); // both running batches are cancelled: their blocked workers are replaced
    const out = await within(lastValueFrom(range(0, 4).pipe(mapOnPool(pool, square), toArray())), 10_000, 'the shared pool to serve');
    expect(out).toEqual([0, 1, 4, 9]);
    expect(rv.count('held-2') + rv.count('held-3')).toBe(0); // never started
    await within(pool.shutdown(), 10_000, 'shutdown');
    await rv[Symbol.asyncDispose]();
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, DEADLINE);

  test('shutdown(): idle timers, task timers, abort listeners, queued and running tasks — nothing is left', async () => {
    await using rv = await openRendezvous();
    using tracker = track();
    const pool = rt.make({ maxWorkers: 2, idleTimeout: 60_000, taskTimeout: 60_000 });
    const signals = Array.from({ length: 6 }, () => new AbortController().signal);
    await pool.submit(t.echo, [0], { signal: signals[0] }); // leaves an idle worker with an idle timer
    rv.hold('running');
    const running = pool.submit(t.hello, [rv.path, 'running'], { signal: signals[1], timeout: 30_000 });
    const blocked = pool.submit(t.helloThenBlock, [rv.path, 'blocked'], { signal: signals[2], timeout: 300 });
    const queued = [3, 4, 5].map((i) => outcome(pool.submit(t.hello, [rv.path, `queued-${i}`], { signal: signals[i] })));
    await within(Promise.all([rv.started('running'), rv.started('blocked')]), 10_000, 'both workers to be busy');
    const closed = pool.shutdown({ cancelPending: true });
    for (const result of await Promise.all(queued)) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toBeInstanceOf(AbortError);
    }
    rv.release('running');
    expect((await running).key).toBe('running'); // running tasks finish
    expect((await outcome(blocked)).ok).toBe(false); // … or time out
    await within(closed, 10_000, 'shutdown to resolve');
    expect(signals.map((signal) => getEventListeners(signal, 'abort').length)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(pool.stats).toMatchObject({ workers: 0, busy: 0, queued: 0 });
    await rv[Symbol.asyncDispose]();
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
    expect(['queued-3', 'queued-4', 'queued-5'].map((key) => rv.count(key))).toEqual([0, 0, 0]);
  }, DEADLINE);

  test('map(): leaving the loop early, an item error, and an abort leave no listener; after shutdown nothing is left', async () => {
    using tracker = track();
    const pool = rt.make({ maxWorkers: 2 });
    const controller = new AbortController();
    const early: number[] = [];
    for await (const y of pool.map(square, range1(100), { signal: controller.signal, chunksize: 4 })) {
      early.push(y);
      if (early.length === 5) break;
    }
    expect(early).toEqual([1, 4, 9, 16, 25]);
    const failing = (n: number) => {
      if (n === 3) throw new Error('three');
      return n;
    };
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const y of pool.map(failing, range1(10), { signal: controller.signal })) seen.push(y);
      })(),
    );
    expect(error.message).toBe('three');
    expect(seen).toEqual([1, 2]);
    const aborted = (async () => {
      for await (const y of pool.map(square, range1(1_000_000), { signal: controller.signal })) if (y === 100) controller.abort(new Error('enough'));
    })();
    expect(await rejection(aborted)).toBeInstanceOf(AbortError);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await within(pool.shutdown(), 10_000, 'shutdown');
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, DEADLINE);

  test('streams: a pool.stream left early and a flatMapOnPool unsubscribed with streams in flight close their generators in the workers; after shutdown nothing is left', async () => {
    await using gate = await openGate();
    using tracker = track();
    const pool = rt.make({ maxWorkers: 2, idleTimeout: 60_000 });
    const controller = new AbortController();
    let taken = 0;
    for await (const _ of pool.stream(s.countForever, [gate.path, 'early'], { signal: controller.signal, timeout: 60_000 })) if (++taken === 3) break;
    const items = [0, 1].map((i) => ({ path: gate.path, key: `op-${i}`, reportAt: 1 }));
    const live = from(items).pipe(flatMapOnPool(pool, s.countForeverItem, { buffersize: 4 })).subscribe();
    await within(Promise.all([gate.started('op-0:1'), gate.started('op-1:1')]), 10_000, 'both streams to start');
    live.unsubscribe();
    await within(Promise.all([gate.started('op-0:finally'), gate.started('op-1:finally')]), 10_000, 'both generators to close');
    expect(gate.log).toContain('early:finally'); // break returned only once it had closed
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await within(pool.shutdown(), 10_000, 'shutdown');
    expect(pool.stats).toMatchObject({ failed: 0, cancelled: 3 }); // closed, none killed
    await gate[Symbol.asyncDispose]();
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, DEADLINE);

  test('streams: a stream whose pool is shut down runs to its end as its consumer pulls (graceful), or ends with AbortError after what it received (force); nothing is left', async () => {
    await using gate = await openGate();
    using tracker = track();
    const graceful = rt.make({ maxWorkers: 1 });
    const iterator = graceful.stream(s.count, [5], { buffersize: 1 });
    expect((await iterator.next()).value).toBe(0);
    const closed = graceful.shutdown();
    const rest: number[] = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) rest.push(step.value);
    expect(rest).toEqual([1, 2, 3, 4]);
    await within(closed, 10_000, 'graceful shutdown');
    const forced = rt.make({ maxWorkers: 1 });
    const endless = forced.stream(s.countForever, [gate.path, 'forced'], { buffersize: 16 });
    expect((await endless.next()).value).toBe(1);
    await within(forced.shutdown({ force: true }), 10_000, 'forced shutdown');
    const after: number[] = [];
    const error = await rejection((async () => {
      for (let step = await endless.next(); !step.done; step = await endless.next()) after.push(step.value);
    })());
    expect(error).toBeInstanceOf(AbortError);
    expect(after).toEqual(Array.from({ length: after.length }, (_, i) => i + 2)); // what had arrived, in order, once
    await gate[Symbol.asyncDispose]();
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, DEADLINE);
});

test('a script that abandons streams waiting for credit (iterators never returned) and never calls shutdown exits by itself', async () => {
  const run = await runScript(fixture('abandons-stream.ts'), [], 30_000);
  expect(run.killed).toBe(false);
  expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(JSON.parse(run.stdout.trim())).toEqual({ fromThreads: 10, fromProcesses: 20, firstOf: 30 });
}, 40_000);

function* range1(n: number): Generator<number> {
  for (let i = 1; i <= n; i++) yield i;
}

test('a script that uses both pools and every operator, with faults, and never calls shutdown exits by itself', async () => {
  const run = await runScript(fixture('forgets-shutdown.ts'), [], 30_000);
  expect(run.killed).toBe(false);
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
  const squares = (ns: number[]) => ns.map(square);
  expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({
    submitThreads: squares([1, 2, 3]),
    submitProcesses: squares([1, 2, 3]),
    mapThreads: squares([4, 5, 6]),
    mapProcesses: squares([4, 5, 6]),
    mapOnThreads: squares([1, 2, 3, 4]),
    mapOnProcesses: squares([1, 2, 3, 4]),
    mapOnPoolThreads: squares([1, 2, 3, 4]),
    mapOnPoolProcesses: squares([1, 2, 3, 4]),
    unsubscribed: squares([0, 1, 2]),
    crashThreads: 'WorkerCrashedError',
    crashProcesses: 'WorkerCrashedError',
    timeoutThreads: 'TaskTimeoutError',
    timeoutProcesses: 'TaskTimeoutError',
    afterFaults: [81, 81],
  });
  console.log(`forgets-shutdown.ts exited by itself with code 0 in ${Math.round(run.ms)} ms`);
}, 40_000);

test('ProcessPool: right after `await pool.shutdown()` no process handle (ProcessWrap) or pipe (PipeWrap) of the pool is active, whether its workers left by themselves or were killed', async () => {
  const watched = () => process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap' || r === 'PipeWrap').sort();
  // An earlier test's spawned script may still be closing its handle: start from a quiet state.
  await until(() => !watched().includes('ProcessWrap'), 5_000, 'earlier child processes to close');
  const before = watched(); // the test runner's own pipes
  const graceful = new ProcessPool({ maxWorkers: 2 });
  const running = Promise.all([graceful.submit(t.echo, [1]), graceful.submit(t.echo, [2])]);
  expect(watched().length).toBeGreaterThanOrEqual(before.length + 2); // the check sees a live pool's handles …
  expect(await running).toEqual([1, 2]);
  await graceful.shutdown();
  expect(watched()).toEqual(before); // … and none once shutdown has resolved: not one turn of the loop later
  const killed = new ProcessPool({ maxWorkers: 1 });
  const hung = killed.submit(t.blockForever, [], { timeout: 200 }); // the last exit is a kill
  hung.catch(() => {});
  await killed.shutdown({ cancelPending: true });
  expect(await rejection(hung)).toBeInstanceOf(TaskTimeoutError);
  expect(watched()).toEqual(before);
}, DEADLINE);
