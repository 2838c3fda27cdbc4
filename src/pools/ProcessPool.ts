import { WorkerPool } from './WorkerPool.ts';
import { validateProcessPoolOptions, type ProcessPoolOptions } from './options.ts';
import { processTransport } from './transport.ts';

/**
 * Python's `ProcessPoolExecutor` on `node:child_process`: each worker is a Node process, isolated
 * from the others (its own memory, flags and environment; a crash takes only itself down).
 * Arguments and results are copied with V8 serialisation; `transfer` lists are ignored.
 *
 * @example
 * ```ts
 * await using pool = new ProcessPool({ maxWorkers: 3 });
 * await pool.submit((n: number) => n * n, [4]); // 16
 * ```
 */
export class ProcessPool extends WorkerPool {
  constructor(options: ProcessPoolOptions = {}) {
    const resolved = validateProcessPoolOptions(options);
    super('ProcessPool', resolved, processTransport(resolved));
  }
}
