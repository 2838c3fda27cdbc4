/** fromPiscina: the shared contract on a real piscina pool, and what is piscina's own. */
import { Piscina } from 'piscina';
import { describe, expect, test } from 'vitest';
import { fromPiscina } from 'rxjs-pools/adapters';
import { task } from '../../src/pools/task.ts';
import { adapterSuite } from './adapter-suite.ts';

const tasks = new URL('./fixtures/tasks.mjs', import.meta.url);

adapterSuite({
  name: 'fromPiscina',
  stopsRunning: true,
  passesThrownValues: true,
  refused: { task: (x: number) => x + 1, message: 'fromPiscina runs task(module, name) references: its workers import a module' },
  async open(workers) {
    const piscina = new Piscina({ filename: tasks.href, minThreads: workers, maxThreads: workers });
    return {
      pool: fromPiscina(piscina),
      task: (name) => task(tasks, name),
      close: () => piscina.destroy(),
      alive: () => piscina.threads.length,
    };
  },
});

describe('fromPiscina: its own', () => {
  test('maxWorkers is maxThreads × concurrentTasksPerWorker; a non-pool is refused by name', async () => {
    const piscina = new Piscina({ filename: tasks.href, minThreads: 0, maxThreads: 3, concurrentTasksPerWorker: 2 });
    try {
      expect(fromPiscina(piscina).maxWorkers).toBe(6);
    } finally {
      await piscina.destroy();
    }
    expect(() => fromPiscina({} as never)).toThrow('fromPiscina expects a Piscina instance (an object with run()), got Object object');
    expect(() => fromPiscina({ run() {}, options: { maxThreads: 0 } } as never)).toThrow(
      "fromPiscina: expected Piscina instance's options.maxThreads to be an integer from 1 and up, got 0 (number)",
    );
  });
});
