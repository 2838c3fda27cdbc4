/**
 * fromThreadsPool: the shared contract on a real threads.js pool (running tasks cannot be
 * stopped: the suite checks they finish unseen), the `call` form and its checks.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { fromThreadsPool } from 'rxjs-pools/adapters';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import { task } from '../../src/pools/task.ts';
import { adapterSuite } from './adapter-suite.ts';

// threads' types do not resolve under moduleResolution NodeNext (no `types` in its exports map).
type Threads = {
  Pool: (spawn: () => Promise<unknown>, size: number | { size: number; concurrency?: number }) => { terminate(force?: boolean): Promise<void>; queue: never };
  spawn: (worker: unknown) => Promise<unknown>;
  Worker: new (path: string) => { once(event: 'exit', fn: () => void): void };
};
const threads = (await import('threads' as string)) as Threads;
const script = new URL('./fixtures/threads-worker.mjs', import.meta.url);

/** A threads.js pool, counting its worker threads' exits (threads.js keeps no count of its own). */
function openPool(size: number | { size: number; concurrency?: number }) {
  let alive = 0;
  // threads.js resolves the path against the calling file even when absolute: keep it relative.
  const pool = threads.Pool(() => {
    const worker = new threads.Worker('./fixtures/threads-worker.mjs');
    alive++;
    worker.once('exit', () => alive--);
    return threads.spawn(worker);
  }, size);
  return { pool, alive: () => alive };
}

adapterSuite({
  name: 'fromThreadsPool',
  stopsRunning: false,
  passesThrownValues: true,
  refused: { task: (x: number) => x + 1, message: 'fromThreadsPool calls a method the threads.js worker exposes' },
  async open(workers) {
    const { pool, alive } = openPool(workers);
    return {
      pool: fromThreadsPool(pool as never),
      task: (name) => task(script, name),
      close: () => pool.terminate(true),
      alive,
    };
  },
});

describe('fromThreadsPool: its own', () => {
  test('maxWorkers is size × concurrency; a call runs anything on the worker proxy, with the task as its third argument', async () => {
    const { pool } = openPool({ size: 2, concurrency: 2 });
    try {
      const seen: unknown[] = [];
      const adapted = fromThreadsPool(pool as never, (worker: { inc(x: number): Promise<number> }, x: number, fn) => {
        seen.push(fn);
        return worker.inc(x * 10);
      });
      expect(adapted.maxWorkers).toBe(4);
      const label = (x: number) => x; // with a call, any task is accepted and handed to it
      expect(await lastValueFrom(from([1, 2, 3]).pipe(mapOnPool(adapted, label), toArray()))).toEqual([11, 21, 31]);
      expect(seen).toEqual([label, label, label]);
    } finally {
      await pool.terminate(true);
    }
  });

  test('a method the worker does not expose fails that item, naming what it exposes', async () => {
    const { pool } = openPool(1);
    try {
      const error = await lastValueFrom(from([1]).pipe(mapOnPool(fromThreadsPool(pool as never), task(script, 'nope')))).catch((e: unknown) => e);
      expect((error as Error).message).toBe('fromThreadsPool: the threads.js worker exposes no method "nope" (it exposes: failing, gated, inc, timed, work)');
    } finally {
      await pool.terminate(true);
    }
    expect(() => fromThreadsPool({ queue() {} } as never)).toThrow('fromThreadsPool: cannot read the size of this threads.js pool (no `workers` array, got undefined (undefined))');
    expect(() => fromThreadsPool({ queue() {}, workers: [1] } as never, 'call' as never)).toThrow('fromThreadsPool: expected `call` to be a function (worker, value, task) => result, got "call" (string)');
  });
});
