/**
 * The fault matrix (CPython's test_concurrent_futures crash tests, for Node): every fault gives a
 * named error, nothing hangs, and the pool serves the next task. One suite, both runtimes.
 * Every test carries its own deadline, so a regression fails instead of stalling the run.
 */
import { getEventListeners } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  AbortError,
  BrokenPoolError,
  DataCloneError,
  RecursivePoolError,
  TaskTimeoutError,
  WorkerCrashedError,
  task,
} from '../../src/index.ts';
import {
  alive,
  collect,
  fixture,
  openRendezvous,
  outcome,
  rejection,
  runtimes,
  scratch,
  t,
  track,
  until,
  untilSync,
  within,
} from './fixtures/harness.ts';

/** Deadline of one fault test: a worker start under vitest is ~0.1–0.3 s, a crash costs one. */
const DEADLINE = 15_000;

describe.each(runtimes)('$name', (rt) => {
  /** The pool is still usable: a fresh task runs and returns its own value. */
  async function serves(pool: ReturnType<typeof rt.make>, value = `next-${Math.random()}`) {
    expect(await within(pool.submit(t.echo, [value]), 10_000, 'the next task')).toBe(value);
  }

  describe('a worker that dies while running a task', () => {
    test('process.exit: WorkerCrashedError with the exit code; the task queued behind it runs; the pool serves the next task', async () => {
      await using rv = await openRendezvous();
      await using pool = rt.make({ maxWorkers: 1 });
      const crash = pool.submit(t.helloThenExit, [rv.path, 'exits', 7]);
      const queued = pool.submit(t.echo, ['queued behind the crash']);
      const error = await rejection(crash);
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error.exitCode).toBe(7);
      expect(error.signal).toBeNull();
      expect(error.message).toMatch(/helloThenExit exited with code 7/);
      expect(await queued).toBe('queued behind the crash');
      const crashed = await rv.started('exits');
      expect(await pool.submit(t.whoAmI, [])).not.toBe(`${crashed.pid}:${crashed.thread}`); // replaced
      await serves(pool);
    }, DEADLINE);

    test('an uncaught async throw: WorkerCrashedError, the escaped error as its cause; the pool serves the next task', async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const error = await rejection(pool.submit(t.asyncThrow, ['escaped from a timer']));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error.exitCode).toBe(null); // the worker did not exit: the pool replaced it (the task's promise never settles)
      expect(error.message).toMatch(/An error escaped task asyncThrow while it ran, so its worker was replaced: escaped from a timer/);
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.cause.name).toBe('EscapedError');
      expect(error.cause.message).toBe('escaped from a timer');
      await serves(pool);
    }, DEADLINE);

    test('out of memory: WorkerCrashedError; the pool serves the next task under the same limit', async () => {
      await using pool = rt.make({ maxWorkers: 1, ...rt.lowMemory });
      const error = await rejection(pool.submit(t.exhaustMemory, []));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      if (rt.thread) {
        expect(error.exitCode).toBe(1);
        expect(error.message).toMatch(/memory limit/);
      } else {
        // V8 aborts the process on a fatal out-of-memory.
        expect(error.signal === 'SIGABRT' || error.exitCode === 134).toBe(true);
      }
      await serves(pool);
    }, DEADLINE);

    if (!rt.thread) {
      test('SIGKILL of a child from outside, busy or idle: WorkerCrashedError naming the signal; the next task runs on a new child', async () => {
        await using rv = await openRendezvous();
        await using pool = rt.make({ maxWorkers: 1 });
        const running = pool.submit(t.helloThenPend, [rv.path, 'victim']);
        const { pid } = await rv.started('victim');
        process.kill(pid, 'SIGKILL');
        const error = await rejection(running);
        expect(error).toBeInstanceOf(WorkerCrashedError);
        expect(error.signal).toBe('SIGKILL');
        expect(error.exitCode).toBeNull();
        expect(error.message).toMatch(/was killed by SIGKILL/);
        const next = await pool.submit(t.whoAmI, []);
        expect(next).not.toMatch(new RegExp(`^${pid}:`));
        // Killed while idle: nothing fails, and the next task is served by yet another child.
        const idlePid = Number(next.split(':')[0]);
        process.kill(idlePid, 'SIGKILL');
        await until(() => !alive(idlePid), 5_000, 'the idle child to be reaped');
        const after = await within(pool.submit(t.whoAmI, []), 10_000, 'a task after the idle child was killed');
        expect(after).not.toMatch(new RegExp(`^${idlePid}:`));
      }, DEADLINE);
    }
  });

  describe('a task that never returns', () => {
    test('timeout: TaskTimeoutError naming the limit; the blocked worker is replaced; the pool serves the next task', async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const before = await pool.submit(t.whoAmI, []);
      const error = await rejection(pool.submit(t.blockForever, [], { timeout: 200 }));
      expect(error).toBeInstanceOf(TaskTimeoutError);
      expect(error.timeout).toBe(200);
      expect(error.message).toMatch(/blockForever timed out after 200 ms/);
      expect(await pool.submit(t.whoAmI, [])).not.toBe(before);
      if (!rt.thread) await until(() => !alive(Number(before.split(':')[0])), 5_000, 'the blocked child to be gone');
      await serves(pool);
    }, DEADLINE);

    test('taskTimeout: the pool-wide limit applies the same way; a per-call timeout overrides it', async () => {
      await using pool = rt.make({ maxWorkers: 1, taskTimeout: 150 });
      const before = await pool.submit(t.whoAmI, [], { timeout: 60_000 }); // worker start-up is not what is timed here
      const error = await rejection(pool.submit(t.blockForever, []));
      expect(error).toBeInstanceOf(TaskTimeoutError);
      expect(error.timeout).toBe(150);
      expect(await pool.submit(t.whoAmI, [], { timeout: 60_000 })).not.toBe(before);
    }, DEADLINE);
  });

  describe('abort', () => {
    test('while queued: rejects at once with AbortError (reason as cause), the task never runs, no listener is left', async () => {
      await using rv = await openRendezvous();
      await using pool = rt.make({ maxWorkers: 1 });
      rv.hold('holder');
      const holder = pool.submit(t.hello, [rv.path, 'holder']);
      await rv.started('holder');
      const controller = new AbortController();
      const queued = pool.submit(t.hello, [rv.path, 'queued'], { signal: controller.signal });
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      const reason = new Error('changed my mind');
      controller.abort(reason);
      // Settles while the only worker is still held: it did not wait for a worker.
      const error = await within(rejection(queued), 5_000, 'the aborted task to reject');
      expect(error).toBeInstanceOf(AbortError);
      expect(error.name).toBe('AbortError');
      expect(error.cause).toBe(reason);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      rv.release('holder');
      await holder;
      // The worker runs tasks in order: had 'queued' run, it would have reported before 'marker'.
      await pool.submit(t.hello, [rv.path, 'marker']);
      expect(rv.log).toEqual(['holder', 'marker']);
      expect(rv.count('queued')).toBe(0);
    }, DEADLINE);

    test('while running: AbortError (reason as cause), the worker is replaced, no listener is left, the pool serves the next task', async () => {
      await using rv = await openRendezvous();
      await using pool = rt.make({ maxWorkers: 1 });
      const before = await pool.submit(t.whoAmI, []);
      const controller = new AbortController();
      const running = pool.submit(t.helloThenBlock, [rv.path, 'running'], { signal: controller.signal });
      const ran = await rv.started('running');
      expect(`${ran.pid}:${ran.thread}`).toBe(before);
      const reason = new Error('stop it');
      controller.abort(reason);
      const error = await rejection(running);
      expect(error).toBeInstanceOf(AbortError);
      expect(error.cause).toBe(reason);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      expect(await pool.submit(t.whoAmI, [])).not.toBe(before);
      await serves(pool);
    }, DEADLINE);
  });

  describe('data that cannot be cloned', () => {
    test.each([
      ['a function', () => 1],
      ['a symbol', Symbol('nope')],
    ])('an argument that is %s: DataCloneError; a good task sent in the same tick still runs; the pool serves the next task', async (_, bad) => {
      await using pool = rt.make({ maxWorkers: 1 });
      const good = pool.submit(t.echo, ['good']);
      const error = await rejection(pool.submit(t.echo, [bad]));
      expect(error).toBeInstanceOf(DataCloneError);
      expect(error.message).toMatch(/An argument of task echo could not be sent to the worker/);
      expect(await good).toBe('good');
      await serves(pool);
    }, DEADLINE);

    test.each(['function', 'symbol'] as const)('a result that is a %s: DataCloneError; the pool serves the next task', async (kind) => {
      await using pool = rt.make({ maxWorkers: 1 });
      const error = await rejection(pool.submit(t.returnUncloneable, [kind]));
      expect(error).toBeInstanceOf(DataCloneError);
      expect(error.message).toMatch(/result could not be sent back from the worker/);
      await serves(pool);
    }, DEADLINE);
  });

  describe('task modules that cannot be loaded', () => {
    test('a syntax error: SyntaxError naming the module, every time; the pool serves the next task', async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const broken = task(fixture('syntax-error.mjs'), 'work');
      for (let i = 0; i < 2; i++) {
        const error = await rejection(pool.submit(broken, [1]));
        expect(error).toBeInstanceOf(SyntaxError);
        expect(`${error.message}\n${error.stack}`).toMatch(/syntax-error\.mjs/);
      }
      await serves(pool);
    }, DEADLINE);

    test('a missing export: TypeError naming the export and what the module does export', async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const error = await rejection(pool.submit(task(fixture('tasks.ts'), 'noSuchExport'), []));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/has no export `noSuchExport` \(it exports: .*\bchaos\b/);
      await serves(pool);
    }, DEADLINE);

    test('a top level that throws: that error, class and name kept, every time; the pool serves the next task', async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const failing = task(fixture('throws-at-top.ts'), 'work');
      for (let i = 0; i < 2; i++) {
        const error = await rejection(pool.submit(failing, [1]));
        expect(error).toBeInstanceOf(RangeError);
        expect(error.name).toBe('TopLevelError');
        expect(error.message).toBe('the module failed while it was being imported');
      }
      await serves(pool);
    }, DEADLINE);

    test('a pool created while a worker imports the module: RecursivePoolError with the fix, no cascade of workers', async () => {
      using tracker = track();
      await using pool = rt.make({ maxWorkers: 1 });
      const error = await rejection(pool.submit(task(fixture('recursive.ts'), 'work'), [1]));
      expect(error).toBeInstanceOf(RecursivePoolError);
      expect(error.message).toMatch(/recursive\.ts/);
      expect(error.message).toMatch(/isPoolWorker\(\)/);
      expect(error.message).toMatch(/__name__ == "__main__"/);
      await serves(pool);
      expect(tracker.created(rt.thread ? 'WORKER' : 'PROCESSWRAP')).toBe(1);
    }, DEADLINE);
  });

  describe('a pool that cannot start workers', () => {
    test('an initializer that throws: BrokenPoolError (its error as cause) for pending and later tasks, which never run', async () => {
      using dir = scratch();
      const pool = rt.make({
        maxWorkers: 2,
        initializer: (why: string) => {
          throw new Error(why);
        },
        initArgs: ['no database'],
      });
      const pending = [1, 2, 3].map((n) => outcome(pool.submit(t.mark, [dir.dir, `pending-${n}`])));
      const errors: unknown[] = [];
      for (const result of await within(Promise.all(pending), 10_000, 'the pending tasks to settle')) {
        expect(result.ok).toBe(false);
        if (result.ok) continue;
        expect(result.error).toBeInstanceOf(BrokenPoolError);
        expect(result.error.message).toMatch(/initializer of .*Pool threw.*no database/);
        expect(result.error.cause.message).toBe('no database');
        errors.push(result.error);
      }
      const later = await rejection(pool.submit(t.mark, [dir.dir, 'later']));
      expect(later).toBeInstanceOf(BrokenPoolError);
      expect(later).toBe(errors[0]); // the same error: the pool is broken for good
      await within(pool.shutdown(), 5_000, 'shutdown of the broken pool');
      expect(pool.stats.workers).toBe(0);
      expect(dir.has('pending-1') || dir.has('pending-2') || dir.has('pending-3') || dir.has('later')).toBe(false);
    }, DEADLINE);

    test('workers that die during start-up: BrokenPoolError after a few tries, no respawn loop', async () => {
      using tracker = track();
      const spawned = rt.thread ? 'WORKER' : 'PROCESSWRAP';
      const pool = rt.thread
        ? rt.make({ maxWorkers: 2, resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } })
        : rt.make({ maxWorkers: 2, execArgv: ['--no-such-flag'] });
      const results = await within(
        Promise.all([outcome(pool.submit(t.echo, [1])), outcome(pool.submit(t.echo, [2]))]),
        10_000,
        'the pending tasks to settle',
      );
      for (const result of results) {
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error).toBeInstanceOf(BrokenPoolError);
          expect(result.error.message).toMatch(/keep dying during start-up/);
        }
      }
      const tries = tracker.created(spawned);
      expect(tries).toBeGreaterThan(0);
      expect(tries).toBeLessThanOrEqual(5);
      await expect(pool.submit(t.echo, [3])).rejects.toBeInstanceOf(BrokenPoolError);
      await within(pool.shutdown(), 5_000, 'shutdown of the broken pool');
      expect(tracker.created(spawned)).toBe(tries); // a later submit started nothing
    }, DEADLINE);
  });

  describe('recycling', () => {
    test('maxTasksPerWorker: workers are replaced after N tasks, and no task is lost or run twice', async () => {
      await using rv = await openRendezvous();
      await using pool = rt.make({ maxWorkers: 2, maxTasksPerWorker: 4 });
      const keys = Array.from({ length: 24 }, (_, i) => `task-${i}`);
      const ran = await within(Promise.all(keys.map((key) => pool.submit(t.hello, [rv.path, key]))), 15_000, 'all tasks');
      const perWorker = new Map<string, number>();
      for (const who of ran) perWorker.set(`${who.pid}:${who.thread}`, (perWorker.get(`${who.pid}:${who.thread}`) ?? 0) + 1);
      expect(Math.max(...perWorker.values())).toBeLessThanOrEqual(4);
      expect(perWorker.size).toBeGreaterThanOrEqual(6);
      expect(ran.map((who) => who.key)).toEqual(keys);
      expect(keys.map((key) => rv.count(key))).toEqual(keys.map(() => 1));
    }, DEADLINE);

    test('idleTimeout: an idle worker exits after it; the next task starts a new one', async () => {
      await using pool = rt.make({ maxWorkers: 1, idleTimeout: 100 });
      const first = await pool.submit(t.whoAmI, []);
      await until(() => pool.stats.workers === 0, 5_000, 'the idle worker to exit');
      expect(await pool.submit(t.whoAmI, [])).not.toBe(first);
    }, DEADLINE);
  });

  // ── found by this suite, fixed in the pools since; kept as regression tests ────────────────────────────

  describe('limits and races', () => {
    test('a timeout above 2^31-1 ms (~24.8 days) is honoured, not fired after 1 ms: per call, taskTimeout, and a chunk (timeout × items)', async () => {
      const huge = 2 ** 31; // Node's setTimeout clamps anything above 2^31-1 to 1 ms
      const fiftyMs = (n: number) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        return n;
      };
      await using pool = rt.make({ maxWorkers: 1 });
      expect((await outcome(pool.submit(fiftyMs, [1], { timeout: huge }))).ok).toBe(true);
      await using withTaskTimeout = rt.make({ maxWorkers: 1, taskTimeout: huge });
      expect((await outcome(withTaskTimeout.submit(fiftyMs, [2]))).ok).toBe(true);
      // A chunk's limit is timeout × items: 1e9 ms (11.6 days, itself in range) × 3 items = 3e9 ms.
      const chunked = outcome(collect(pool.map(fiftyMs, [3, 4, 5], { timeout: 1e9, chunksize: 3 })));
      expect(await chunked).toEqual({ ok: true, value: [3, 4, 5] });
    }, DEADLINE);

    test('the timeout clock starts when the task starts: a worker start-up with a slow initializer does not time out its first task', async () => {
      // The initializer takes 400 ms, once per worker, before its first task; the task itself takes
      // nothing. Timed from dispatch instead, every fresh worker times out on its first task and is
      // replaced by another fresh worker: no task can ever complete.
      await using pool = rt.make({
        maxWorkers: 1,
        taskTimeout: 250,
        initializer: (ms: number) => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
        },
        initArgs: [400],
      });
      expect(await outcome(pool.submit((n: number) => n + 1, [1]))).toEqual({ ok: true, value: 2 });
    }, DEADLINE);

    test('idleTimeout above 2^31-1 ms keeps an idle worker instead of retiring it after 1 ms', async () => {
      await using pool = rt.make({ maxWorkers: 1, idleTimeout: 2 ** 31 });
      const first = await pool.submit(t.whoAmI, []);
      // Stay idle for 30 ms: the idleness is what is under test (a clamped timer fires after 1 ms).
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(await pool.submit(t.whoAmI, [])).toBe(first);
    }, DEADLINE);

    test('map() with an already aborted signal throws AbortError and sends nothing: no item runs, no worker is replaced', async () => {
      using dir = scratch();
      await using pool = rt.make({ maxWorkers: 1 });
      const before = await pool.submit(t.whoAmI, []);
      const reason = new Error('aborted before map');
      const iterator = pool.map((name: string) => name, ['a', 'b', 'c'], { signal: AbortSignal.abort(reason) });
      const error = await rejection(iterator.next());
      expect(error).toBeInstanceOf(AbortError);
      expect(error.cause).toBe(reason);
      expect(await pool.submit(t.whoAmI, [])).toBe(before);
      const marks = pool.map((name: string) => name, ['x'], { signal: AbortSignal.abort() });
      await rejection(marks.next());
      await pool.submit(t.mark, [dir.dir, 'after']);
      expect(dir.has('after')).toBe(true);
    }, DEADLINE);

    test('aborting a task the worker has started while the answer of the one before it is still in flight replaces the worker (no hang)', async () => {
      using dir = scratch();
      const file = (name: string) => join(dir.dir, name);
      await using pool = rt.make({ maxWorkers: 1 });
      try {
        // Measured fast, so the pool pipelines it: B is sent to the worker behind A.
        for (let i = 0; i < 5; i++) await pool.submit(t.step, [dir.dir, `warm-${i}`, 'fast']);
        const a = pool.submit(t.step, [dir.dir, 'A', 'hold']);
        const controller = new AbortController();
        const b = outcome(pool.submit(t.step, [dir.dir, 'B', 'hold'], { signal: controller.signal }));
        await until(() => existsSync(file('A.started')), 10_000, 'A to start');
        // Synchronously, so this thread reads no answer meanwhile: let A return, see B start, abort B.
        writeFileSync(file('A.release'), '');
        untilSync(() => existsSync(file('B.started')), 10_000, 'B to start after A returned');
        controller.abort(new Error('abort B'));
        expect(await a).toBe('A');
        const bResult = await b;
        expect(bResult.ok).toBe(false);
        expect(bResult.ok || bResult.error).toBeInstanceOf(AbortError);
        // B never returns by itself: only replacing the worker lets C run.
        expect(await within(pool.submit(t.step, [dir.dir, 'C', 'fast']), 5_000, 'C to run after B was aborted')).toBe('C');
      } finally {
        writeFileSync(file('B.release'), ''); // unblock a worker left running B, so the pool can shut down
      }
    }, DEADLINE);

    test('shutdown({ cancelPending }) rejects the tasks pipelined on a worker that have not started; they never run', async () => {
      using dir = scratch();
      const file = (name: string) => join(dir.dir, name);
      const pool = rt.make({ maxWorkers: 1 });
      for (let i = 0; i < 5; i++) await pool.submit(t.step, [dir.dir, `warm-${i}`, 'fast']);
      const running = pool.submit(t.step, [dir.dir, 'running', 'hold']);
      const waiting = ['w1', 'w2', 'w3'].map((name) => outcome(pool.submit(t.step, [dir.dir, name, 'mark'])));
      await until(() => existsSync(file('running.started')), 10_000, 'the first task to start');
      const closed = pool.shutdown({ cancelPending: true });
      await new Promise((resolve) => setImmediate(resolve)); // the withdrawal is on its way before the worker is let go
      writeFileSync(file('running.release'), '');
      expect(await running).toBe('running'); // running tasks finish
      const results = await Promise.all(waiting);
      await within(closed, 10_000, 'shutdown');
      expect(results.map((r) => (r.ok ? `ran ${r.value}` : r.error.name))).toEqual(['AbortError', 'AbortError', 'AbortError']);
      expect(['w1', 'w2', 'w3'].filter((name) => dir.has(`${name}.ran`))).toEqual([]);
    }, DEADLINE);

    test('shutdown({ cancelPending }) does not reject tasks the worker already ran or is running: they finish with their results', async () => {
      // The pool cannot see that a pipelined task has started until the worker says so. Here the
      // worker has finished `done` and is running `busy` when shutdown is called (this thread was
      // blocked meanwhile, so it read no answer): both are running tasks as far as the contract goes.
      using dir = scratch();
      const file = (name: string) => join(dir.dir, name);
      const pool = rt.make({ maxWorkers: 1 });
      try {
        for (let i = 0; i < 5; i++) await pool.submit(t.step, [dir.dir, `warm-${i}`, 'fast']);
        const first = pool.submit(t.step, [dir.dir, 'first', 'hold']);
        const done = outcome(pool.submit(t.step, [dir.dir, 'done', 'mark']));
        const busy = outcome(pool.submit(t.step, [dir.dir, 'busy', 'hold']));
        await until(() => existsSync(file('first.started')), 10_000, 'the first task to start');
        writeFileSync(file('first.release'), '');
        untilSync(() => existsSync(file('busy.started')), 10_000, 'the third task to start');
        expect(dir.has('done.ran')).toBe(true);
        const closed = pool.shutdown({ cancelPending: true });
        writeFileSync(file('busy.release'), '');
        expect(await first).toBe('first');
        expect(await done).toEqual({ ok: true, value: 'done' });
        expect(await busy).toEqual({ ok: true, value: 'busy' });
        await within(closed, 10_000, 'shutdown');
      } finally {
        writeFileSync(file('busy.release'), '');
        await pool.shutdown();
      }
    }, DEADLINE);

    test('a worker that cannot be spawned (new Worker / fork throw): the task rejects with a named error, nothing stays queued, shutdown resolves', async () => {
      // Both pass option validation, then make new Worker() / fork() throw synchronously: a 1 TB
      // thread stack cannot be reserved (EAGAIN); a 200 kB environment string is over the kernel's
      // limit for one (E2BIG).
      const pool = rt.thread
        ? rt.make({ maxWorkers: 1, resourceLimits: { stackSizeMb: 1_000_000 } })
        : rt.make({ maxWorkers: 1, env: { ...process.env, HUGE: 'x'.repeat(200_000) } });
      const controller = new AbortController();
      const first = await within(outcome(pool.submit(t.echo, [1], { signal: controller.signal })), 5_000, 'the task to settle');
      expect(first.ok).toBe(false);
      if (!first.ok) expect(first.error.message).toMatch(rt.thread ? /EAGAIN/ : /E2BIG/);
      expect(pool.stats.queued).toBe(0);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      const second = await within(outcome(pool.submit(t.echo, [2])), 5_000, 'a later task to settle');
      expect(second.ok).toBe(false);
      expect(pool.stats.queued).toBe(0);
      let closed: Promise<void> | undefined;
      expect(() => (closed = pool.shutdown())).not.toThrow();
      await within(closed!, 5_000, 'shutdown');
    }, DEADLINE);

    test('initArgs that cannot be cloned: refused when the pool is made, naming initArgs (tasks never run without their initializer)', async () => {
      const make = () =>
        rt.make({
          maxWorkers: 1,
          initializer: (setting: unknown) => {
            (globalThis as Record<string, unknown>).initialized = typeof setting;
          },
          initArgs: [() => 'a function cannot be cloned'],
        });
      expect(make).toThrow(TypeError);
      expect(make).toThrow(/`initArgs` cannot be sent to a worker/);
    }, DEADLINE);
  });
});
