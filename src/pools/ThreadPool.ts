import { WorkerPool } from './WorkerPool.ts';
import { validateThreadPoolOptions, type ThreadPoolOptions } from './options.ts';
import { threadTransport } from './transport.ts';

/**
 * Python's `ThreadPoolExecutor` on `node:worker_threads`: each worker is a thread with its own
 * V8 isolate, so CPU-bound JavaScript really runs in parallel. Arguments and results are copied
 * (structured clone) unless moved with `transfer`.
 *
 * @example
 * ```ts
 * await using pool = new ThreadPool({ maxWorkers: 3 });
 * await pool.submit((n: number) => n * n, [4]); // 16
 * ```
 */
export class ThreadPool extends WorkerPool {
  constructor(options: ThreadPoolOptions = {}) {
    const resolved = validateThreadPoolOptions(options);
    super('ThreadPool', resolved, threadTransport(resolved));
  }
}
