import type { Pool, TaskRef } from '../pools/Pool.ts';
import { AdaptedPool, type Library } from './AdaptedPool.ts';
import { expectCount, expectLibraryPool, expectTaskRef } from './checks.ts';

/**
 * The part of a `Piscina` (or `Tinypool`, its fork) instance the adapter uses. Declared here, so
 * that the package type-checks and loads without piscina installed: the adapter never imports it.
 */
export interface PiscinaLike {
  run(task: unknown, options?: { name?: string | null; filename?: string | null; signal?: AbortSignal | null }): Promise<unknown>;
  readonly options: { readonly maxThreads: number; readonly concurrentTasksPerWorker?: number };
}

/** The adapter for piscina and tinypool: one `run(value, { filename, name, signal })` a value. */
export function piscinaLibrary(adapter: string, library: string, pool: PiscinaLike): Library {
  expectLibraryPool(adapter, library, pool, ['run']);
  const options = (pool as { options?: PiscinaLike['options'] }).options;
  const threads = expectCount(adapter, `${library.replace(/^an? /, '')}'s options.maxThreads`, options?.maxThreads);
  const perWorker = expectCount(adapter, 'options.concurrentTasksPerWorker', options?.concurrentTasksPerWorker ?? 1);
  return {
    adapter,
    maxWorkers: threads * perWorker,
    check: (fn) =>
      expectTaskRef(
        adapter,
        fn,
        `its workers import a module and call one of its exports (run's filename and name), so an inline function cannot run there`,
        "task(new URL('./worker.mjs', import.meta.url), 'name')",
      ),
    start(fn, value) {
      const { module, name } = fn as TaskRef;
      // One controller per item: the library's abort listener goes with it, never onto a user's signal.
      const controller = new AbortController();
      return {
        result: pool.run(value, { filename: module, name, signal: controller.signal }),
        cancel: (reason) => controller.abort(reason),
      };
    },
  };
}

/**
 * Runs the operators on an existing piscina pool: `mapOnPool(fromPiscina(piscina), task(module,
 * name))` calls `piscina.run(value, { filename: module, name, signal })` for each value, with the
 * operator's order, bound, backpressure and cancellation.
 *
 * - **Task**: a `task(module, name)` reference: `filename` and `name` of piscina's `run` (the
 *   module may be the pool's own `filename` or another; piscina loads it in the worker). The same
 *   reference runs on a `ThreadPool` unchanged. An inline function is refused (TypeError).
 * - **maxWorkers** (the operators' default `concurrency`): `maxThreads × concurrentTasksPerWorker`.
 * - **Cancellation** (unsubscribe, an earlier item failed): through an `AbortSignal`. A task still
 *   in piscina's queue is dropped and never runs; a running one costs its worker, which piscina
 *   terminates (and replaces, down to `minThreads`).
 * - The pool stays yours: the adapter never closes it; `await piscina.destroy()` when done.
 *
 * ## Example
 * ```ts
 * import { Piscina } from 'piscina';
 * import { mapOnPool, task } from 'rxjs-pools';
 * import { fromPiscina } from 'rxjs-pools/adapters';
 *
 * const piscina = new Piscina({ filename: new URL('./worker.mjs', import.meta.url).href });
 * const hash = task<(s: string) => string>(new URL('./worker.mjs', import.meta.url), 'hash');
 * lines$.pipe(mapOnPool(fromPiscina(piscina), hash)).subscribe(console.log); // in input order
 * ```
 * @param piscina A `Piscina` instance (piscina 5; any object with `run` and `options.maxThreads`).
 * @returns A {@link Pool} for `mapOnPool` and `mapSettled`.
 */
export function fromPiscina(piscina: PiscinaLike): Pool {
  return new AdaptedPool(piscinaLibrary('fromPiscina', 'a Piscina instance', piscina));
}
