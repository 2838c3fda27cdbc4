/**
 * The executor contract, one suite run against both runtimes (CPython's create_executor_tests).
 * Synchronisation is by events only: tasks report their start over a Unix socket (the gate) and
 * wait to be released; nothing sleeps.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import {
  AbortError,
  BrokenPoolError,
  DataCloneError,
  PoolShutdownError,
  ProcessPool,
  TaskError,
  TaskTimeoutError,
  ThreadPool,
  WorkerCrashedError,
  task,
  type WorkerPool,
} from '../../src/index.ts';
import { openGate } from '../fixtures/gate.ts';
import type * as Tasks from '../fixtures/tasks.ts';

const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
const gated = task<typeof Tasks.gated>(tasks, 'gated');
const gatedItem = task<typeof Tasks.gatedItem>(tasks, 'gatedItem');
const whoAmI = task<typeof Tasks.whoAmI>(tasks, 'whoAmI');
const reverse = task<typeof Tasks.reverse>(tasks, 'reverse');
const fail = task<typeof Tasks.fail>(tasks, 'fail');
const init = task<typeof Tasks.init>(tasks, 'init');
const initState = task<typeof Tasks.initState>(tasks, 'initState');

/** The whole executor contract, for one runtime. */
export function executorSuite(name: 'ThreadPool' | 'ProcessPool'): void {
  const Pool = (name === 'ThreadPool' ? ThreadPool : ProcessPool) as new (options?: object) => WorkerPool;
  describe('submit', () => {
    test('resolves with the return value, awaited', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      expect(await pool.submit((n: number) => n * n, [4])).toBe(16);
      expect(await pool.submit(async (a: number, b: number) => a + b, [2, 3])).toBe(5);
      expect(await pool.submit(reverse, ['abc'])).toBe('cba');
    });

    test('arguments and results travel by structured clone', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const input = { map: new Map([['a', 1]]), set: new Set([2]), date: new Date(7), big: 10n ** 20n, bytes: new Uint8Array([1, 2, 3]) };
      const echoed = await pool.submit((x: typeof input) => ({ ...x, sum: x.bytes.reduce((a, b) => a + b, 0) }), [input]);
      expect(echoed).toEqual({ ...input, sum: 6 });
      expect(echoed.map).toBeInstanceOf(Map);
      expect(echoed.date).toBeInstanceOf(Date);
    });

    test('a Buffer argument, batch item or result arrives as a Buffer on both pools (nested ones: see the README)', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      expect(await pool.submit((b: Buffer) => b.toString('utf8'), [Buffer.from('hi')])).toBe('hi');
      const made = await pool.submit((s: string) => Buffer.from(s), ['back']);
      expect(Buffer.isBuffer(made)).toBe(true);
      expect(made.toString()).toBe('back');
      const items = [Buffer.from('a'), new Uint8Array([98]), Buffer.from('c')];
      const out: unknown[] = [];
      for await (const y of pool.map((b: Uint8Array) => (Buffer.isBuffer(b) ? `Buffer ${b.toString()}` : `Uint8Array ${b[0]}`), items, { chunksize: 3 })) out.push(y);
      expect(out).toEqual(['Buffer a', 'Uint8Array 98', 'Buffer c']); // a plain Uint8Array stays one
      const results: unknown[] = [];
      for await (const y of pool.map((s: string) => Buffer.from(s), ['x', 'y'], { chunksize: 2 })) results.push(y);
      expect(results.every((r) => Buffer.isBuffer(r))).toBe(true);
      // Nested inside another value: a Buffer on processes (V8 serialisation), a Uint8Array on threads.
      const nested = await pool.submit((o: { b: Uint8Array }) => Buffer.isBuffer(o.b), [{ b: Buffer.from('n') }]);
      expect(nested).toBe(name === 'ProcessPool');
    });

    test('inline functions: method shorthand and async work, sent once per worker', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const methods = { triple(n: number) { return n * 3; }, async later(n: number) { return n + 1; } };
      expect(await pool.submit(methods.triple, [2])).toBe(6);
      expect(await pool.submit(methods.later, [2])).toBe(3);
    });

    test('an inline function that uses an outer variable fails with a message pointing to task()', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const factor = 3;
      const scaled = (n: number) => n * factor;
      const error = await pool.submit(scaled, [2]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReferenceError);
      expect((error as Error).message).toMatch(/factor is not defined/);
      expect((error as Error).message).toMatch(/task\(new URL/);
      expect(await pool.submit((n: number) => n, [1])).toBe(1);
    });

    test('bound and native functions, and non-functions, are refused at submit with a TypeError', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const bound = ((n: number) => n).bind(null);
      await expect(pool.submit(bound, [1])).rejects.toThrow(/bound or native function/);
      await expect(pool.submit(Math.max, [1, 2])).rejects.toThrow(TypeError);
      await expect(pool.submit(42 as never, [] as never)).rejects.toThrow(/Expected a task: a function or a task\(module, name\) reference, got 42 \(number\)/);
      await expect(pool.submit((n: number) => n, 1 as never)).rejects.toThrow(/Expected `args` to be an array/);
      expect(pool.stats.workers).toBe(0); // nothing was started for them
    });

    test('a missing export or a non-function export is named in the error; the pool keeps working', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      await expect(pool.submit(task(tasks, 'nope'), [])).rejects.toThrow(/has no export `nope` \(it exports: .*gated/);
      await expect(pool.submit(task(tasks, 'notAFunction'), [])).rejects.toThrow(/`notAFunction` of .* is not a function \(got number\)/);
      expect(await pool.submit(reverse, ['ab'])).toBe('ba');
    });

    test('an argument or a result that cannot be cloned is a DataCloneError; the pool keeps working', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const argError = await pool.submit((f: unknown) => typeof f, [() => 1]).catch((e: unknown) => e);
      expect(argError).toBeInstanceOf(DataCloneError);
      expect((argError as Error).message).toMatch(/could not be sent to the worker/);
      const resultError = await pool.submit(() => () => 1, []).catch((e: unknown) => e);
      expect(resultError).toBeInstanceOf(DataCloneError);
      expect((resultError as Error).message).toMatch(/result could not be sent back/i);
      expect(await pool.submit((n: number) => n + 1, [1])).toBe(2);
    });
  });

  describe('errors thrown by a task', () => {
    test('keep name, message, code, cause, own fields and the remote stack', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const error = (await pool.submit(fail, ['coded']).catch((e: unknown) => e)) as Error & Record<string, unknown>;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toBe('disk full');
      expect(error.code).toBe('ENOSPC');
      expect(error.errno).toBe(-28);
      expect(error.path).toBe('/x');
      expect(error.cause).toBeInstanceOf(RangeError);
      expect((error.cause as Error).message).toBe('quota 10 GB');
      expect(error.stack).toMatch(/fixtures[/\\]tasks\.ts/); // the remote stack, from the worker
    });

    test('built-in classes keep their class; a subclass keeps its name', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const custom = (await pool.submit(fail, ['custom']).catch((e: unknown) => e)) as TypeError & { field: string };
      expect(custom).toBeInstanceOf(TypeError);
      expect(custom.name).toBe('ValidationError');
      expect(custom.field).toBe('age');
      await expect(pool.submit((o: { x: number } | null) => o!.x, [null])).rejects.toBeInstanceOf(TypeError);
      await expect(pool.submit(() => new Array(-1), [])).rejects.toBeInstanceOf(RangeError);
      const aggregate = (await pool.submit(fail, ['aggregate']).catch((e: unknown) => e)) as AggregateError;
      expect(aggregate).toBeInstanceOf(AggregateError);
      expect(aggregate.errors.map((e: Error) => `${e.name}:${e.message}`)).toEqual(['TypeError:a', 'Error:b']);
    });

    test.each([
      ['string', 'just a string'],
      ['object', { status: 418 }],
      ['undefined', undefined],
    ])('a thrown non-Error (%s) arrives wrapped in TaskError with the value kept', async (kind, value) => {
      await using pool = new Pool({ maxWorkers: 1 });
      const error = (await pool.submit(fail, [kind]).catch((e: unknown) => e)) as TaskError;
      expect(error).toBeInstanceOf(TaskError);
      expect(error.name).toBe('TaskError');
      expect(error.value).toEqual(value);
      expect(error.message).toMatch(/non-Error value/);
    });
  });

  describe('map', () => {
    test('yields in input order whatever the durations, the same as a plain map', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      // Later items finish first: item i spins for (40 - i) × 0.2 ms.
      const spin = (i: number) => {
        const end = performance.now() + (40 - i) * 0.2;
        while (performance.now() < end);
        return i * i;
      };
      const input = Array.from({ length: 40 }, (_, i) => i);
      const out: number[] = [];
      for await (const y of pool.map(spin, input, { buffersize: 8 })) out.push(y);
      expect(out).toEqual(input.map((i) => i * i));
    });

    test('is lazy: never reads more than buffersize items ahead, so infinite iterables work', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      let pulled = 0;
      let closed = false;
      function* naturals() {
        try {
          for (let i = 0; ; i++) {
            pulled++;
            yield i;
          }
        } finally {
          closed = true;
        }
      }
      const out: number[] = [];
      for await (const y of pool.map((n: number) => n * 2, naturals(), { buffersize: 5 })) {
        out.push(y);
        expect(pulled - out.length).toBeLessThanOrEqual(5);
        if (out.length === 20) break;
      }
      expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
      expect(closed).toBe(true);
      expect(pulled).toBeLessThanOrEqual(25);
    });

    test('takes async iterables', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      async function* letters() {
        for (const c of 'abcdef') yield c;
      }
      const out: string[] = [];
      for await (const y of pool.map((c: string) => c.toUpperCase(), letters(), { buffersize: 2 })) out.push(y);
      expect(out.join('')).toBe('ABCDEF');
    });

    test('chunksize sends that many items in one message, to one worker, run back to back', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      const out: { worker: string; run: number }[] = [];
      for await (const y of pool.map(whoAmI, Array.from({ length: 30 }, () => undefined as never), { chunksize: 5 })) out.push(y);
      expect(out).toHaveLength(30);
      for (let chunk = 0; chunk < 6; chunk++) {
        const items = out.slice(chunk * 5, chunk * 5 + 5);
        expect(new Set(items.map((x) => x.worker)).size).toBe(1);
        expect(items.map((x) => x.run - items[0]!.run)).toEqual([0, 1, 2, 3, 4]);
      }
    });

    test("an item's error is thrown when iteration reaches it, after the earlier results", async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      const failAt4 = (n: number): number => (n === 4 ? (null as unknown as { x: number }).x : n);
      for (const chunksize of [1, 3]) {
        const out: number[] = [];
        const iterate = async () => {
          for await (const y of pool.map(failAt4, [0, 1, 2, 3, 4, 5, 6], { chunksize })) {
            out.push(y);
          }
        };
        await expect(iterate()).rejects.toBeInstanceOf(TypeError);
        expect(out).toEqual([0, 1, 2, 3]);
      }
    });

    test('leaving the loop early cancels what is pending: queued items never run', async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 1 });
      const items = [0, 1, 2, 3].map((value) => ({ path: gate.path, value }));
      const first = (async () => {
        for await (const y of pool.map(gatedItem, items, { buffersize: 4 })) return y;
      })();
      await gate.started(0);
      gate.release(0);
      expect(await first).toBe(0);
      // One worker, FIFO: had items 2 and 3 not been cancelled, they would start before this marker.
      await pool.submit(gated, [gate.path, 'marker', false]);
      expect(gate.log).not.toContain(2);
      expect(gate.log).not.toContain(3);
      expect(gate.log.at(-1)).toBe('marker');
    });

    test('a live source: what was read goes out at once, without waiting to fill a chunk or the read-ahead', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      let resume!: () => void;
      const stalled = new Promise<void>((resolve) => (resume = resolve));
      let read = 0;
      async function* feed() {
        read++;
        yield 1;
        await stalled; // the next record comes only once the first result is out: a map that waits to fill deadlocks
        read++;
        yield 2;
      }
      const out: number[] = [];
      for await (const y of pool.map((n: number) => n * 10, feed(), { chunksize: 16, buffersize: 512 })) {
        out.push(y);
        if (out.length === 1) {
          expect(read).toBe(1);
          resume();
        }
      }
      expect(out).toEqual([10, 20]);
    });

    test('an abort is seen while the source stalls: the iteration throws AbortError at once', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const controller = new AbortController();
      let closed = false;
      async function* feed() {
        try {
          yield 1;
          await new Promise(() => {}); // never yields again
        } finally {
          closed = true;
        }
      }
      const iterator = pool.map((n: number) => n, feed(), { signal: controller.signal });
      expect((await iterator.next()).value).toBe(1);
      const second = iterator.next();
      controller.abort(new Error('stop'));
      const error = await second.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortError);
      expect((error as AbortError).cause).toEqual(new Error('stop'));
      expect(closed).toBe(false); // a pending next() of the source is not awaited: the feed may never answer
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });

    test('submits the first buffersize items when called (CPython 3.14): shutdown({ wait: false }) right after still computes them', async () => {
      const pool = new Pool({ maxWorkers: 2 });
      const results = pool.map((n: number) => n * n, [1, 2, 3, 4, 5]);
      const stopped = pool.shutdown({ wait: false });
      const out: number[] = [];
      for await (const y of results) out.push(y);
      expect(out).toEqual([1, 4, 9, 16, 25]);
      await stopped;
      await pool.shutdown();
    });

    test('a value handed out is not kept alive by the iterator until the next pull', async () => {
      const { setFlagsFromString } = await import('node:v8');
      const { runInNewContext } = await import('node:vm');
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      await using pool = new Pool({ maxWorkers: 1 });
      const iterator = pool.map((n: number) => ({ n, payload: 'x'.repeat(1000) }), [1, 2, 3], { chunksize: 3 });
      // In a function of its own: a block in this async test would keep `first` in the test's frame.
      const firstRef = async () => new WeakRef((await iterator.next()).value as object);
      const ref = await firstRef();
      for (let i = 0; i < 5 && ref.deref(); i++) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      expect(ref.deref()).toBeUndefined();
      expect((await iterator.next()).value).toMatchObject({ n: 2 });
      await iterator.return();
    });

    test("totalTimeout is a deadline from the call (Python's timeout): past it the iteration throws TaskTimeoutError and what is pending is cancelled", async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 1 });
      await pool.submit((n: number) => n, [0]); // the worker is up: item 0 starts at once
      const items = [0, 1, 2].map((value) => ({ path: gate.path, value })); // 0 is held: the deadline passes
      const iterate = async () => {
        const out: number[] = [];
        for await (const y of pool.map(gatedItem, items, { totalTimeout: 200 })) out.push(y as number);
        return out;
      };
      const error = await iterate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskTimeoutError);
      expect(error).toMatchObject({ timeout: 200, message: expect.stringMatching(/map\(\) did not finish within its totalTimeout of 200 ms/) });
      expect(gate.log).not.toContain(1); // 1 and 2 were cancelled before they started (0 ran, or was about to)
      expect(gate.log).not.toContain(2);
      expect(pool.stats.cancelled).toBe(3);
      expect(await pool.submit((n: number) => n + 1, [1])).toBe(2); // the pool goes on
    });

    test('bad arguments throw at once, naming what was wrong', () => {
      const pool = new Pool({ maxWorkers: 1 });
      expect(() => pool.map((n: number) => n, 5 as never)).toThrow(/Expected `iterable` to be an iterable or async iterable, got 5 \(number\)/);
      expect(() => pool.map((n: number) => n, [1], { chunksize: 0 })).toThrow(/Expected `chunksize` to be an integer from 1 and up, or 'auto', got 0/);
      expect(() => pool.map((n: number) => n, [1], { chunksize: 4, buffersize: 2 })).toThrow(/Expected `buffersize` to be an integer from 4 and up, got 2/);
      expect(() => pool.map('x' as never, [1] as never)).toThrow(/Expected a task/);
      return pool.shutdown();
    });
  });

  describe('workers that die', () => {
    test('process.exit in a task rejects exactly that task with WorkerCrashedError; others are unaffected', async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 2 });
      const survivor = pool.submit(gated, [gate.path, 'survivor']);
      await gate.started('survivor');
      const crash = pool.submit(() => process.exit(3), []);
      const queued = pool.submit((n: number) => n + 1, [41]);
      const error = (await crash.catch((e: unknown) => e)) as WorkerCrashedError;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error.exitCode).toBe(3);
      expect(error.message).toMatch(/exited with code 3/);
      expect(await queued).toBe(42);
      gate.release('survivor');
      expect(await survivor).toBe('survivor');
      expect(pool.stats.failed).toBe(1);
    });

    test('an uncaught async throw crashes the worker; the error is the cause', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const error = (await pool
        .submit(() => new Promise(() => setTimeout(() => { throw new Error('escaped'); })), [])
        .catch((e: unknown) => e)) as WorkerCrashedError;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error.cause as Error).message).toBe('escaped');
      expect(error.message).toMatch(/escaped/);
      expect(await pool.submit((n: number) => n * 2, [21])).toBe(42);
    });

    test('workers that keep dying at start-up break the pool: BrokenPoolError, no respawn loop', async () => {
      const pool = new Pool({ maxWorkers: 2, initializer: () => process.exit(7) });
      const first = pool.submit((n: number) => n, [1]).catch((e: unknown) => e);
      const second = pool.submit((n: number) => n, [2]).catch((e: unknown) => e);
      expect(await first).toBeInstanceOf(BrokenPoolError);
      expect(await second).toBeInstanceOf(BrokenPoolError);
      expect(((await first) as Error).message).toMatch(/keep dying during start-up \(3 in a row; the last exited with code 7\)/);
      await expect(pool.submit((n: number) => n, [3])).rejects.toBeInstanceOf(BrokenPoolError);
      expect(pool.stats.state).toBe('broken');
      await pool.shutdown();
      expect(pool.stats.workers).toBe(0);
    });

    test("the BrokenPoolError's cause is the first start-up failure of the run, the message names the last", async () => {
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-broken-'));
      try {
        // Each worker in turn exits with the next code: 11, 12, 13.
        const countedExit = (path: string) => {
          const fs = process.getBuiltinModule('node:fs');
          const n = fs.existsSync(path) ? Number(fs.readFileSync(path, 'utf8')) + 1 : 1;
          fs.writeFileSync(path, String(n));
          process.exit(10 + n);
        };
        const pool = new Pool({ maxWorkers: 1, initializer: countedExit, initArgs: [join(dir, 'count')] });
        const error = (await pool.submit((n: number) => n, [1]).catch((e: unknown) => e)) as BrokenPoolError;
        expect(error).toBeInstanceOf(BrokenPoolError);
        expect(error.message).toMatch(/the last exited with code 13/);
        expect(String((error.cause as Error).message)).toMatch(/exited with code 11/);
        await pool.shutdown();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an initializer that throws breaks the pool, its error as the cause', async () => {
      const pool = new Pool({ maxWorkers: 1, initializer: () => { throw new RangeError('no config'); } });
      const error = (await pool.submit((n: number) => n, [1]).catch((e: unknown) => e)) as BrokenPoolError;
      expect(error).toBeInstanceOf(BrokenPoolError);
      expect(error.cause).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(/initializer .* threw.*no config/);
      await expect(pool.submit((n: number) => n, [1])).rejects.toBe(error);
      await pool.shutdown();
    });
  });

  describe('initializer', () => {
    test('runs once per worker with initArgs, before its first task', async () => {
      await using pool = new Pool({ maxWorkers: 1, initializer: init, initArgs: ['db', 3] });
      await pool.submit((n: number) => n, [0]);
      expect(await pool.submit(initState, [])).toEqual({ args: ['db', 3], count: 1 });
    });
  });

  describe('timeouts', () => {
    test('a task past its timeout rejects with TaskTimeoutError; its worker is replaced and later tasks run', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const error = (await pool.submit(() => { for (;;); }, [], { timeout: 200 }).catch((e: unknown) => e)) as TaskTimeoutError;
      expect(error).toBeInstanceOf(TaskTimeoutError);
      expect(error.timeout).toBe(200);
      expect(error.message).toMatch(/timed out after 200 ms/);
      expect(await pool.submit((n: number) => n + 1, [1])).toBe(2);
    });

    test('taskTimeout applies to every task; a per-call timeout overrides it', async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 1, taskTimeout: 150 });
      await expect(pool.submit(gated, [gate.path, 'stuck'])).rejects.toBeInstanceOf(TaskTimeoutError);
      const patient = pool.submit(gated, [gate.path, 'patient'], { timeout: 60_000 });
      await gate.started('patient');
      gate.release('patient');
      expect(await patient).toBe('patient');
    });
  });

  describe('signal', () => {
    test('aborted while queued: the task never runs; AbortError with the reason as cause; no listener left', async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 1 });
      const busy = pool.submit(gated, [gate.path, 'busy']);
      await gate.started('busy');
      const controller = new AbortController();
      const queued = pool.submit(gated, [gate.path, 'queued', false], { signal: controller.signal });
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort('changed my mind');
      const error = (await queued.catch((e: unknown) => e)) as AbortError;
      expect(error).toBeInstanceOf(AbortError);
      expect(error.name).toBe('AbortError');
      expect(error.cause).toBe('changed my mind');
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      gate.release('busy');
      await busy;
      await pool.submit(gated, [gate.path, 'marker', false]);
      expect(gate.log).toEqual(['busy', 'marker']);
    });

    test('aborted while running: AbortError, the worker is replaced, later tasks run', async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 1 });
      const controller = new AbortController();
      const running = pool.submit(gated, [gate.path, 'running'], { signal: controller.signal });
      const first = await gate.started('running');
      controller.abort();
      await expect(running).rejects.toBeInstanceOf(AbortError);
      const next = pool.submit(gated, [gate.path, 'next', false]);
      expect(await next).toBe('next');
      expect((await gate.started('next')).pid + ':' + (await gate.started('next')).thread).not.toBe(`${first.pid}:${first.thread}`);
    });

    test('an already aborted signal rejects at once and starts nothing', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const signal = AbortSignal.abort(new Error('too late'));
      const error = (await pool.submit((n: number) => n, [1], { signal }).catch((e: unknown) => e)) as AbortError;
      expect(error).toBeInstanceOf(AbortError);
      expect((error.cause as Error).message).toBe('too late');
      expect(pool.stats.workers).toBe(0);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    });

    test('no listener is left on a signal after the task completes, fails or times out', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const { signal } = new AbortController();
      await pool.submit((n: number) => n, [1], { signal });
      await pool.submit(() => { throw new Error('x'); }, [], { signal }).catch(() => {});
      await pool.submit(() => { for (;;); }, [], { signal, timeout: 100 }).catch(() => {});
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    });
  });

  describe('shutdown', () => {
    test('running tasks finish; later submits reject with PoolShutdownError; wait resolves when every worker exited', async () => {
      await using gate = await openGate();
      const pool = new Pool({ maxWorkers: 2 });
      const running = pool.submit(gated, [gate.path, 'running']);
      await gate.started('running');
      expect(pool.stats.state).toBe('open');
      const done = pool.shutdown();
      expect(pool.stats.state).toBe('closing');
      await expect(pool.submit((n: number) => n, [1])).rejects.toBeInstanceOf(PoolShutdownError);
      await expect(pool.map((n: number) => n, [1]).next()).rejects.toBeInstanceOf(PoolShutdownError);
      gate.release('running');
      expect(await running).toBe('running');
      await done;
      expect(pool.stats).toMatchObject({ workers: 0, state: 'closed' });
    });

    test('queued tasks still run, unless cancelPending rejects them with AbortError', async () => {
      await using gate = await openGate();
      const pool = new Pool({ maxWorkers: 1 });
      const running = pool.submit(gated, [gate.path, 'a']);
      const queued = pool.submit((n: number) => n * 2, [21]);
      await gate.started('a');
      const drained = pool.shutdown({ wait: true });
      gate.release('a');
      await drained;
      expect(await queued).toBe(42);

      const other = new Pool({ maxWorkers: 1 });
      const held = other.submit(gated, [gate.path, 'b']);
      const dropped = other.submit(gated, [gate.path, 'never', false]);
      await gate.started('b');
      const stopped = other.shutdown({ cancelPending: true });
      await expect(dropped).rejects.toBeInstanceOf(AbortError);
      gate.release('b');
      expect(await held).toBe('b');
      await stopped;
      expect(gate.log).not.toContain('never');
      await running;
    });

    test('force: stops every worker at once; running tasks reject with AbortError, queued ones too; resolves when every worker is gone', async () => {
      await using gate = await openGate();
      const pool = new Pool({ maxWorkers: 2 });
      // Their rejections are taken at once (they come before anything awaits them).
      const neverReturns = pool.submit(gated, [gate.path, 'stuck']).catch((e: unknown) => e); // held by the gate: never released
      const alsoRunning = pool.submit(gated, [gate.path, 'stuck too']).catch((e: unknown) => e);
      const queued = pool.submit((n: number) => n, [1]).catch((e: unknown) => e);
      await Promise.all([gate.started('stuck'), gate.started('stuck too')]);
      await pool.shutdown({ force: true });
      expect(pool.stats).toMatchObject({ workers: 0, state: 'closed' });
      for (const p of [neverReturns, alsoRunning, queued]) expect(await p).toBeInstanceOf(AbortError);
      expect(((await neverReturns) as Error).message).toMatch(/shut down with force while this task ran/);
      await expect(pool.submit((n: number) => n, [1])).rejects.toBeInstanceOf(PoolShutdownError);
      expect(() => pool.shutdown({ force: true, cancelPending: false })).toThrow(/`force` cancels pending tasks/);
      expect(() => pool.shutdown({ force: 1 as never })).toThrow(/Expected `force` to be a boolean, got 1 \(number\)/);
    });

    test('force after a graceful shutdown that waits on a task that never returns: resolves both', async () => {
      await using gate = await openGate();
      const pool = new Pool({ maxWorkers: 1 });
      const stuck = pool.submit(gated, [gate.path, 'never released']).catch((e: unknown) => e);
      await gate.started('never released');
      const graceful = pool.shutdown({ wait: true, cancelPending: true });
      await pool.shutdown({ force: true });
      await graceful;
      expect(await stuck).toBeInstanceOf(AbortError);
    });

    test('is idempotent, and `await using` calls it', async () => {
      let escaped: WorkerPool;
      {
        await using pool = new Pool({ maxWorkers: 2 });
        escaped = pool;
        await pool.submit((n: number) => n, [1]);
        expect(pool.stats.workers).toBe(1);
      }
      expect(escaped.stats.workers).toBe(0);
      await escaped.shutdown();
      await escaped.shutdown({ wait: false });
      await expect(escaped.submit((n: number) => n, [1])).rejects.toThrow(/has been shut down/);
    });

    test('validates its options', async () => {
      const pool = new Pool({ maxWorkers: 1 });
      expect(() => pool.shutdown({ wait: 'yes' as never })).toThrow(/Expected `wait` to be a boolean, got "yes" \(string\)/);
      await pool.shutdown();
    });
  });

  describe('workers', () => {
    test('start lazily, at most maxWorkers, and are recycled after maxTasksPerWorker', async () => {
      await using pool = new Pool({ maxWorkers: 2, maxTasksPerWorker: 2 });
      expect(pool.stats.workers).toBe(0);
      const runs: { worker: string; run: number }[] = [];
      for (let i = 0; i < 6; i++) runs.push(await pool.submit(whoAmI, []));
      const perWorker = new Map<string, number>();
      for (const { worker } of runs) perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
      expect(Math.max(...perWorker.values())).toBeLessThanOrEqual(2);
      expect(perWorker.size).toBeGreaterThanOrEqual(3);
      expect(pool.stats.workers).toBeLessThanOrEqual(2);
    });

    test('an idle worker exits after idleTimeout; a new one starts on demand', async () => {
      await using pool = new Pool({ maxWorkers: 1, idleTimeout: 50 });
      const first = await pool.submit(whoAmI, []);
      await expect.poll(() => pool.stats.workers, { timeout: 5_000 }).toBe(0);
      const second = await pool.submit(whoAmI, []);
      expect(second.worker).not.toBe(first.worker);
    });

    test('stats count workers, queue, completed and failed tasks, and busy time', async () => {
      await using gate = await openGate();
      await using pool = new Pool({ maxWorkers: 1 });
      const a = pool.submit(gated, [gate.path, 'a']);
      const b = pool.submit((n: number) => n, [1]);
      await gate.started('a');
      expect(pool.stats).toMatchObject({ workers: 1, busy: 1, queued: 1, completed: 0, failed: 0 });
      gate.release('a');
      await Promise.all([a, b]);
      await pool.submit(() => { throw new Error('x'); }, []).catch(() => {});
      const stats = pool.stats;
      expect(stats).toMatchObject({ workers: 1, busy: 0, queued: 0, completed: 2, failed: 1 });
      expect(stats.busyTime).toBeGreaterThan(0);
      expect(stats.utilization).toBeGreaterThan(0);
      expect(stats.utilization).toBeLessThanOrEqual(1);
    });
  });

  test('tasks pipelined behind a task that turns out slow are given to an idle worker', async () => {
    await using gate = await openGate();
    await using pool = new Pool({ maxWorkers: 2 });
    const inc = (n: number) => n + 1;
    await Promise.all(Array.from({ length: 50 }, (_, n) => pool.submit(inc, [n]))); // measured fast: pipelined
    const slow = pool.submit(gated, [gate.path, 'slow']);
    await gate.started('slow');
    // Spread over both workers, half of these queue up behind the held task; the other worker
    // goes idle, takes them back and runs them while the slow one is still held.
    const rest = await Promise.all(Array.from({ length: 200 }, (_, n) => pool.submit(inc, [n])));
    expect(rest).toEqual(Array.from({ length: 200 }, (_, n) => n + 1));
    expect(pool.stats.busy).toBe(1);
    gate.release('slow');
    expect(await slow).toBe('slow');
  });

  if (name === 'ThreadPool') {
    test('threads: tasks pipelined behind a task that blocks its thread are taken back at once (claims)', async () => {
      await using pool = new Pool({ maxWorkers: 2 });
      const step = (x: { latch?: Int32Array; n: number }) => {
        if (x.latch) {
          Atomics.store(x.latch, 1, 1); // started
          Atomics.notify(x.latch, 1);
          Atomics.wait(x.latch, 0, 0); // blocks this thread: it reads no message until released
        }
        return x.n + 1;
      };
      await Promise.all(Array.from({ length: 50 }, (_, n) => pool.submit(step, [{ n }])));
      const latch = new Int32Array(new SharedArrayBuffer(8));
      const blocked = pool.submit(step, [{ latch, n: -1 }]);
      await Atomics.waitAsync(latch, 1, 0).value;
      const rest = await Promise.all(Array.from({ length: 200 }, (_, n) => pool.submit(step, [{ n }])));
      expect(rest).toEqual(Array.from({ length: 200 }, (_, n) => n + 1));
      Atomics.store(latch, 0, 1);
      Atomics.notify(latch, 0);
      expect(await blocked).toBe(0);
    });
  }

  test('many tiny tasks, pipelined and framed: each settles once with its own result or error', async () => {
    await using pool = new Pool({ maxWorkers: 2 });
    const check = (n: number) => {
      if (n % 7 === 0) throw new RangeError(`bad ${n}`);
      return n * 2;
    };
    const settled = await Promise.allSettled(Array.from({ length: 5000 }, (_, n) => pool.submit(check, [n])));
    settled.forEach((s, n) => {
      if (n % 7 === 0) expect(s).toMatchObject({ status: 'rejected', reason: { message: `bad ${n}` } });
      else expect(s).toEqual({ status: 'fulfilled', value: n * 2 });
    });
    expect(pool.stats).toMatchObject({ completed: 5000 - 715, failed: 715 });
  });

  test(`${name}: transfer moves an ArrayBuffer (threads) or copies it (processes)`, async () => {
    await using pool = new Pool({ maxWorkers: 1 });
    const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
    const sum = await pool.submit((b: ArrayBuffer) => new Uint8Array(b).reduce((x, y) => x + y, 0), [buffer], { transfer: [buffer] });
    expect(sum).toBe(10);
    expect(buffer.byteLength).toBe(name === 'ThreadPool' ? 0 : 4);
  });

  test('transfer() in a task moves its result back (threads) or copies it (processes); in a chunk too', async () => {
    await using pool = new Pool({ maxWorkers: 1 });
    const invert = task<typeof Tasks.invert>(tasks, 'invert');
    const lastMovedLength = task<typeof Tasks.lastMovedLength>(tasks, 'lastMovedLength');
    const back = await pool.submit(invert, [new Uint8Array([0, 255, 10]).buffer]);
    expect([...new Uint8Array(back)]).toEqual([255, 0, 245]);
    expect(await pool.submit(lastMovedLength, [])).toBe(name === 'ThreadPool' ? 0 : 3);
    const inverted: number[][] = [];
    for await (const b of pool.map(invert, [new Uint8Array([1]).buffer, new Uint8Array([2]).buffer], { chunksize: 2 })) inverted.push([...new Uint8Array(b)]);
    expect(inverted).toEqual([[254], [253]]);
    expect(await pool.submit(lastMovedLength, [])).toBe(name === 'ThreadPool' ? 0 : 1);
  });
}
