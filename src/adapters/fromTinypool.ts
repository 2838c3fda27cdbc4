import type { Pool } from '../pools/Pool.ts';
import { AdaptedPool } from './AdaptedPool.ts';
import { piscinaLibrary, type PiscinaLike } from './fromPiscina.ts';

/** The part of a `Tinypool` instance the adapter uses (tinypool is a fork of piscina: the same calls). */
export type TinypoolLike = PiscinaLike;

/**
 * Runs the operators on an existing tinypool pool: `mapOnPool(fromTinypool(pool), task(module,
 * name))` calls `pool.run(value, { filename: module, name, signal })` for each value.
 *
 * - **Task**: a `task(module, name)` reference (`filename` and `name` of tinypool's `run`); an
 *   inline function is refused (TypeError). Both runtimes, `worker_threads` and `child_process`.
 * - **maxWorkers**: `maxThreads × concurrentTasksPerWorker` from the pool's options.
 * - **Cancellation**: through an `AbortSignal`. A queued task is dropped and never runs; a running
 *   one costs its worker (thread or child process), which tinypool terminates.
 * - The pool stays yours: `await pool.destroy()` when done.
 *
 * ## Example
 * ```ts
 * import Tinypool from 'tinypool';
 * import { fromTinypool } from 'rxjs-pools/adapters';
 *
 * const pool = new Tinypool({ filename: new URL('./worker.mjs', import.meta.url).href });
 * lines$.pipe(mapOnPool(fromTinypool(pool), task<(s: string) => string>(new URL('./worker.mjs', import.meta.url), 'hash')));
 * ```
 * @param pool A `Tinypool` instance (tinypool 2; any object with `run` and `options.maxThreads`).
 * @returns A {@link Pool} for `mapOnPool` and `mapSettled`.
 */
export function fromTinypool(pool: TinypoolLike): Pool {
  return new AdaptedPool(piscinaLibrary('fromTinypool', 'a Tinypool instance', pool));
}
