/** fromTinypool: the shared contract on a real tinypool pool (worker_threads), and its child_process runtime. */
import { from, lastValueFrom, toArray } from 'rxjs';
import Tinypool from 'tinypool';
import { describe, expect, test } from 'vitest';
import { fromTinypool } from 'rxjs-pools/adapters';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import { task } from '../../src/pools/task.ts';
import { adapterSuite } from './adapter-suite.ts';

const tasks = new URL('./fixtures/tasks.mjs', import.meta.url);

adapterSuite({
  name: 'fromTinypool',
  stopsRunning: true,
  passesThrownValues: true,
  refused: { task: (x: number) => x + 1, message: 'fromTinypool runs task(module, name) references' },
  async open(workers) {
    const pool = new Tinypool({ filename: tasks.href, minThreads: workers, maxThreads: workers });
    return {
      pool: fromTinypool(pool),
      task: (name) => task(tasks, name),
      close: () => pool.destroy(),
      alive: () => pool.threads.length,
    };
  },
});

describe('fromTinypool: its own', () => {
  test("runtime 'child_process' works the same: in order, maxWorkers from maxThreads", async () => {
    const pool = new Tinypool({ filename: tasks.href, runtime: 'child_process', minThreads: 2, maxThreads: 2 });
    try {
      const adapted = fromTinypool(pool);
      expect(adapted.maxWorkers).toBe(2);
      const items = [5, 0, 3, 1, 4, 2].map((ms, i) => ({ i, ms }));
      const out = await lastValueFrom(from(items).pipe(mapOnPool(adapted, task<(x: { i: number; ms: number }) => number>(tasks, 'work')), toArray()));
      expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await pool.destroy();
    }
    expect(pool.threads.length).toBe(0);
  });
});
