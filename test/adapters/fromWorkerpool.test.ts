/** fromWorkerpool: the shared contract on a real workerpool pool, inline functions, and script checks. */
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, test } from 'vitest';
import workerpool from 'workerpool';
import { fromWorkerpool } from 'rxjs-pools/adapters';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import { task } from '../../src/pools/task.ts';
import { adapterSuite } from './adapter-suite.ts';

const script = new URL('./fixtures/workerpool-worker.mjs', import.meta.url);
const tasks = new URL('./fixtures/tasks.mjs', import.meta.url);

function openPool(workers: number, withScript = true) {
  const options = { minWorkers: workers, maxWorkers: workers, workerType: 'thread' as const };
  return withScript ? workerpool.pool(fileURLToPath(script), options) : workerpool.pool(options);
}

adapterSuite({
  name: 'fromWorkerpool',
  stopsRunning: true,
  passesThrownValues: false,
  refused: { task: task(tasks, 'work'), message: 'fromWorkerpool: workerpool runs the methods of its own worker script' },
  async open(workers) {
    const pool = openPool(workers);
    return {
      pool: fromWorkerpool(pool),
      task: (name) => task(script, name),
      close: () => pool.terminate(),
      alive: () => pool.stats().totalWorkers,
    };
  },
});

describe('fromWorkerpool: its own', () => {
  test('inline functions run as workerpool offloads them (sent by source, so self-contained), nested names included', async () => {
    const pool = openPool(2, false);
    try {
      const adapted = fromWorkerpool(pool);
      const squareSum = (n: number) => {
        function square(k: number) {
          return k * k;
        }
        const twice = (k: number) => k * 2;
        return square(n) + twice(n);
      };
      expect(await lastValueFrom(from([1, 2, 3]).pipe(mapOnPool(adapted, squareSum), toArray()))).toEqual([3, 8, 15]);
      // What tsx leaves in a function's source (esbuild's keepNames): workerpool's own exec(fn)
      // fails on it with "__name is not defined"; the adapter defines the helper for it.
      const asTsxEmitsIt = new Function('n', 'var square = __name(function (k) { return k * k; }, "square");\nreturn square(n);') as (n: number) => number;
      expect(await lastValueFrom(from([4]).pipe(mapOnPool(adapted, asTsxEmitsIt), toArray()))).toEqual([16]);
      await expect(pool.exec(asTsxEmitsIt, [4])).rejects.toThrow('__name is not defined');
    } finally {
      await pool.terminate();
    }
  });

  test('a pool without a script refuses task references; a non-pool is refused by name', async () => {
    const pool = openPool(1, false);
    try {
      const error = await new Promise<Error | undefined>((resolve) => fromWorkerpool(pool).runBatch(task<(x: number) => number>(script, 'inc'), [1], (e) => resolve(e)));
      expect(error?.message).toMatch(/^fromWorkerpool: this workerpool pool has no worker script, so it runs inline functions only; got task "inc" of file:/);
    } finally {
      await pool.terminate();
    }
    expect(() => fromWorkerpool({ exec() {} } as never)).toThrow("fromWorkerpool: expected the workerpool pool's maxWorkers to be an integer from 1 and up, got undefined (undefined)");
    expect(() => fromWorkerpool(null as never)).toThrow('fromWorkerpool expects a workerpool pool (an object with exec()), got null');
  });
});
