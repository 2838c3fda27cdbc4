/**
 * pool.stream on both runtimes: a task that is an async generator (or returns an iterable) streams
 * its values back. Synchronisation is by events only: generators report to the gate's socket
 * (test/fixtures/gate.ts), and `break` resolves only once the generator's finally has run in its
 * worker, so what it reported is known right after the loop. Nothing sleeps, except one consumer
 * that is slow on purpose (that slowness is what the test is about).
 */
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AbortError,
  DataCloneError,
  PoolShutdownError,
  ProcessPool,
  TaskTimeoutError,
  ThreadPool,
  WorkerCrashedError,
  task,
  type WorkerPool,
} from '../../src/index.ts';
import { openGate, type Gate } from '../fixtures/gate.ts';
import type * as Tasks from '../fixtures/stream-tasks.mjs';

const tasks = new URL('../fixtures/stream-tasks.mjs', import.meta.url);
const t = {
  worker: task<typeof Tasks.worker>(tasks, 'worker'),
  count: task<typeof Tasks.count>(tasks, 'count'),
  countForever: task<typeof Tasks.countForever>(tasks, 'countForever'),
  failAfter: task<typeof Tasks.failAfter>(tasks, 'failAfter'),
  crashAfterThree: task<typeof Tasks.crashAfterThree>(tasks, 'crashAfterThree'),
  stallAfter: task<typeof Tasks.stallAfter>(tasks, 'stallAfter'),
  uncloneableAfter: task<typeof Tasks.uncloneableAfter>(tasks, 'uncloneableAfter'),
  buffers: task<typeof Tasks.buffers>(tasks, 'buffers'),
};

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** What countForever's finally reported for `key`. */
function finallyOf(gate: Gate, key: string): { key: string; produced: number; worker: string } | undefined {
  return gate.log.find((v): v is { key: string; produced: number; worker: string } => (v as { key?: string })?.key === key);
}

describe.each([
  { name: 'ThreadPool', make: (o: object) => new ThreadPool(o) as WorkerPool },
  { name: 'ProcessPool', make: (o: object) => new ProcessPool(o) as WorkerPool },
])('$name: pool.stream', ({ name, make }) => {
  // One worker, shared by the tests that need no pool of their own (a crash or a timeout replaces it).
  let pool: WorkerPool;
  beforeAll(() => void (pool = make({ maxWorkers: 1 })));
  afterAll(() => pool.shutdown());
  const settledSoFar = () => pool.stats.completed + pool.stats.failed + pool.stats.cancelled;

  test('streams what the task yields, in order: async and sync generators, iterables, promises of them, module tasks', async () => {
    const before = pool.stats.completed;
    expect(await collect(pool.stream(async function* (n: number) { for (let i = 0; i < n; i++) yield i * i; }, [5]))).toEqual([0, 1, 4, 9, 16]);
    expect(await collect(pool.stream(function* (s: string) { yield* s; }, ['abc']))).toEqual(['a', 'b', 'c']);
    expect(await collect(pool.stream((n: number) => Array.from({ length: n }, (_, i) => ({ i })), [3]))).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(await collect(pool.stream(async (n: number) => new Set([n, n + 1]), [7]))).toEqual([7, 8]);
    expect(await collect(pool.stream(() => [], []))).toEqual([]);
    expect(await collect(pool.stream(t.count, [4]))).toEqual([0, 1, 2, 3]);
    // Many values, in batches: the same as a plain loop.
    const many = await collect(pool.stream(function* (n: number) { for (let i = 0; i < n; i++) yield i; }, [100_000], { buffersize: 256 }));
    expect(many.length).toBe(100_000);
    expect(many.every((v, i) => v === i)).toBe(true);
    expect(pool.stats.completed - before).toBe(7);
    expect(pool.stats.busy).toBe(0);
  });

  test('is lazy: nothing starts before the first next(); bad arguments throw at once', async () => {
    await using pool = make({ maxWorkers: 1 }); // its own: it is shut down at the end
    const iterator = pool.stream(t.count, [3]);
    expect(pool.stats).toMatchObject({ workers: 0, queued: 0 });
    expect(await iterator.next()).toEqual({ value: 0, done: false });
    await iterator.return();
    expect(() => pool.stream(t.count, 3 as never)).toThrow(/Expected `args` to be an array of arguments, got 3 \(number\)/);
    expect(() => pool.stream(t.count, [1], { buffersize: 0 })).toThrow(/Expected `buffersize` to be an integer from 1 and up, got 0/);
    expect(() => pool.stream(t.count, [1], { chunksize: 2 } as never)).toThrow(/Unknown stream\(\) option `chunksize`; known options: signal, timeout, transfer, buffersize/);
    expect(() => pool.stream(t.count, [1], { timeout: -1 })).toThrow(/Expected `timeout` to be a number of milliseconds above 0/);
    expect(() => pool.stream(42 as never, [] as never)).toThrow(/Expected a task/);
    // A task that returns something else fails on its first next(), naming what it returned.
    await expect(pool.stream(((n: number) => n) as never, [1] as never).next()).rejects.toThrow(/returned number, not an iterable: a streaming task is an async generator function/);
    await pool.shutdown();
    await expect(pool.stream(t.count, [1]).next()).rejects.toBeInstanceOf(PoolShutdownError);
  });

  test('credits: the worker never runs more than buffersize values ahead of the consumer', async () => {
    await using gate = await openGate();
    for (const [buffersize, take] of [[1, 3], [4, 3], [64, 10], [1024, 1]] as const) {
      const key = `w${buffersize}`;
      let taken = 0;
      for await (const value of pool.stream(t.countForever, [gate.path, key], { buffersize })) {
        expect(value).toBe(++taken);
        if (taken === take) break;
      }
      // break resolved after the generator's finally reported: how far the credits let it go.
      const { produced } = finallyOf(gate, key)!;
      expect(produced).toBeGreaterThanOrEqual(take);
      expect(produced).toBeLessThanOrEqual(take + buffersize);
    }
  });

  test("leaving the loop early calls the generator's return() in its worker (its finally runs), which then serves other tasks", async () => {
    await using gate = await openGate();
    const cancelledBefore = pool.stats.cancelled;
    const seen: number[] = [];
    for await (const value of pool.stream(t.countForever, [gate.path, 'early'])) {
      seen.push(value);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const reported = finallyOf(gate, 'early')!; // already there: break waited for it
    expect(reported.produced).toBeGreaterThanOrEqual(5);
    expect(await pool.submit(t.worker, [])).toBe(reported.worker); // the same worker, not a replacement
    expect(pool.stats.cancelled - cancelledBefore).toBe(1);
    expect(pool.stats.workers).toBe(1);
    // An iterator returned before its first next() starts nothing.
    await pool.stream(t.countForever, [gate.path, 'never']).return();
    expect(finallyOf(gate, 'never')).toBeUndefined();
  });

  test('a stream holds its worker alone: other tasks go to other workers meanwhile', async () => {
    await using gate = await openGate();
    await using pool = make({ maxWorkers: 2 });
    const iterator = pool.stream(t.countForever, [gate.path, 'alone'], { buffersize: 2 });
    expect((await iterator.next()).value).toBe(1); // its worker now waits for credit
    const others = await Promise.all(Array.from({ length: 20 }, () => pool.submit(t.worker, [])));
    await iterator.return();
    const streamWorker = finallyOf(gate, 'alone')!.worker;
    expect(new Set(others).size).toBe(1);
    expect(others[0]).not.toBe(streamWorker);
  });

  test('an error thrown mid-stream arrives after the values before it, with the same fidelity as submit', async () => {
    const seen: number[] = [];
    const error = (await (async () => {
      for await (const value of pool.stream(t.failAfter, [[1, 2, 3]])) seen.push(value);
    })().catch((e: unknown) => e)) as Error & Record<string, unknown>;
    expect(seen).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('disk full');
    expect(error).toMatchObject({ code: 'ENOSPC', errno: -28, path: '/x' });
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.stack).toMatch(/stream-tasks\.mjs/); // the remote stack
    // A task that throws before its first value, and an inline one.
    await expect(pool.stream(() => { throw new TypeError('no input'); }, []).next()).rejects.toThrow(TypeError);
    await expect(collect(pool.stream(function* () { yield 1; throw 'plain'; }, []))).rejects.toMatchObject({ name: 'TaskError', value: 'plain' });
    expect(await pool.submit((n: number) => n + 1, [1])).toBe(2);
  });

  test('a worker crash mid-stream: WorkerCrashedError after the values already received, none twice, the stream not rerun', async () => {
    await using gate = await openGate();
    const iterator = pool.stream(t.crashAfterThree, [gate.path, 'crash', 3]);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push((await iterator.next()).value as number);
    await gate.started('crash'); // it has yielded all three and waits to be released
    gate.release('crash');
    const error = (await iterator.next().catch((e: unknown) => e)) as WorkerCrashedError;
    expect(seen).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.exitCode).toBe(3);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(gate.log.filter((v) => v === 'crash:started')).toHaveLength(1);
    expect(await pool.submit((n: number) => n * 2, [21])).toBe(42); // a new worker serves
  });

  test('timeout counts the running time: past it TaskTimeoutError after the values before it; waiting for a slow consumer does not count', async () => {
    const seen: number[] = [];
    const error = (await (async () => {
      for await (const value of pool.stream(t.stallAfter, [[1, 2]], { timeout: 300 })) seen.push(value);
    })().catch((e: unknown) => e)) as TaskTimeoutError;
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error.timeout).toBe(300);
    // A consumer slower than the timeout: the stream waits for it, paused, and is not timed out.
    const slow: number[] = [];
    for await (const value of pool.stream(t.count, [4], { timeout: 400, buffersize: 1 })) {
      slow.push(value);
      // The consumer's own slowness, the subject of this test (not a synchronisation).
      if (slow.length === 2) await new Promise((resolve) => setTimeout(resolve, 700));
    }
    expect(slow).toEqual([0, 1, 2, 3]);
  });

  test('signal: aborted before the first next() starts nothing; aborted mid-stream throws AbortError at once and closes the generator; no listener left', async () => {
    await using gate = await openGate();
    const settled = settledSoFar();
    const early = pool.stream(t.count, [3], { signal: AbortSignal.abort('no') });
    await expect(early.next()).rejects.toMatchObject({ name: 'AbortError', cause: 'no' });
    expect(settledSoFar()).toBe(settled); // nothing was submitted
    const controller = new AbortController();
    const iterator = pool.stream(t.countForever, [gate.path, 'aborted'], { signal: controller.signal });
    expect((await iterator.next()).value).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('stop'));
    const error = (await iterator.next().catch((e: unknown) => e)) as AbortError;
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toEqual(new Error('stop'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The generator is closed in its worker (its finally reports), and then the worker serves on:
    // with one worker, this task runs only once the close is done.
    const next = await pool.submit(t.worker, []);
    expect(finallyOf(gate, 'aborted')?.worker).toBe(next);
    const done = pool.stream(t.count, [2], { signal: controller.signal });
    await expect(done.next()).rejects.toBeInstanceOf(AbortError);
  });

  test('a value that cannot be cloned ends the stream with DataCloneError after the values before it; the generator is closed', async () => {
    await using gate = await openGate();
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const value of pool.stream(t.uncloneableAfter, [gate.path, [1, 2]])) seen.push(value);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(DataCloneError);
    expect((error as Error).message).toMatch(/A value yielded by task uncloneableAfter could not be sent back from the worker/);
    expect(gate.log).toContain('uncloneable:finally');
    // An argument that cannot be sent fails the stream before it starts.
    const argError = await pool.stream(function* (f: unknown) { yield typeof f; }, [() => 1]).next().catch((e: unknown) => e);
    expect(argError).toBeInstanceOf(DataCloneError);
    expect((argError as Error).message).toMatch(/An argument of task .* could not be sent to the worker/);
  });

  test(`${name}: transfer() moves each yielded buffer (threads) or copies it (processes)`, async () => {
    const got = await collect(pool.stream(t.buffers, [3, 4]));
    expect(got.map((b) => [...new Uint8Array(b)])).toEqual([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]]);
    // A Buffer argument, and Buffers yielded, arrive as Buffers on threads as on processes.
    const lines = await collect(pool.stream(function* (text: Buffer) { for (const line of text.toString('utf8').split('\n')) yield Buffer.from(line); }, [Buffer.from('ab\ncd')]));
    expect(lines.map((b) => [Buffer.isBuffer(b), b.toString('utf8')])).toEqual([[true, 'ab'], [true, 'cd']]);
  });
});
