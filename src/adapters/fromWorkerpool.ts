import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyFn, Pool, Task, TaskRef } from '../pools/Pool.ts';
import { describe, isTaskRef } from '../pools/task.ts';
import { AdaptedPool } from './AdaptedPool.ts';
import { expectCount, expectLibraryPool } from './checks.ts';

/** workerpool's promise: a thenable with `cancel()`. */
export interface WorkerpoolPromiseLike extends PromiseLike<unknown> {
  cancel(): unknown;
}

/**
 * The part of a workerpool `Pool` the adapter uses. Declared here, so that the package
 * type-checks and loads without workerpool installed: the adapter never imports it.
 */
export interface WorkerpoolLike {
  exec(method: string | AnyFn, params?: unknown[] | null): WorkerpoolPromiseLike;
  readonly maxWorkers?: number;
  readonly script?: string | null;
}

/** The worker script as an absolute path (workerpool resolves a relative one against the cwd). */
function scriptPath(script: string): string {
  return script.startsWith('file:') ? fileURLToPath(script) : resolve(script);
}

/**
 * An inline function wrapped so that it runs in workerpool's worker as it would in ours: esbuild
 * (tsx, vitest) may leave `__name(fn, "name")` calls in a function's source, which only our worker
 * defines. The wrapper is a real function, so workerpool sends its source as it sends any.
 */
const wrapped = new WeakMap<AnyFn, AnyFn>();
function portable(fn: AnyFn): AnyFn {
  let w = wrapped.get(fn);
  if (w === undefined) {
    // biome-ignore lint: building a function from source is the point: workerpool sends source.
    w = new Function('value', `var __name = function (f) { return f; };\nreturn (${String(fn)})(value);`) as AnyFn;
    wrapped.set(fn, w);
  }
  return w;
}

/**
 * Runs the operators on an existing workerpool pool: each value becomes one `pool.exec(method,
 * [value])`, with the operator's order, bound, backpressure and cancellation.
 *
 * - **Task**: a `task(module, name)` reference, where `module` is the pool's worker script and
 *   `name` the method it registered with `workerpool.worker({ name })` (`exec(name, [value])`); a
 *   reference to another module is refused, since workerpool runs its own script's methods only.
 *   Or an inline function (`exec(fn, [value])`): workerpool sends its source, so it must be
 *   self-contained, as for `ThreadPool`.
 * - **maxWorkers**: the pool's `maxWorkers` (one task per worker at a time).
 * - **Cancellation**: workerpool's `promise.cancel()`. A queued task is dropped and never runs; a
 *   running one is rejected with `CancellationError` and its worker terminated (after the worker's
 *   abort listeners, if it registered any, within `workerTerminateTimeout`), then replaced.
 * - The pool stays yours: `await pool.terminate()` when done.
 *
 * ## Example
 * ```ts
 * import workerpool from 'workerpool';
 * import { fromWorkerpool } from 'rxjs-pools/adapters';
 *
 * const script = new URL('./worker.mjs', import.meta.url); // workerpool.worker({ hash })
 * const pool = workerpool.pool(fileURLToPath(script), { maxWorkers: 4 });
 * lines$.pipe(mapOnPool(fromWorkerpool(pool), task<(s: string) => string>(script, 'hash')));
 * numbers$.pipe(mapOnPool(fromWorkerpool(pool), (n: number) => n * n)); // inline, self-contained
 * ```
 * @param pool A workerpool `Pool` (workerpool 10; any object with `exec` and `maxWorkers`).
 * @returns A {@link Pool} for `mapOnPool` and `mapSettled`.
 */
export function fromWorkerpool(pool: WorkerpoolLike): Pool {
  const adapter = 'fromWorkerpool';
  expectLibraryPool(adapter, 'a workerpool pool', pool, ['exec']);
  const maxWorkers = expectCount(adapter, "the workerpool pool's maxWorkers", pool.maxWorkers);
  const script = typeof pool.script === 'string' ? scriptPath(pool.script) : undefined;
  const check = (fn: Task) => {
    if (typeof fn === 'function') return;
    if (!isTaskRef(fn)) throw new TypeError(`${adapter}: expected an inline function or a task(module, name) reference, got ${describe(fn)}`);
    const { module, name } = fn;
    if (script === undefined) {
      throw new TypeError(
        `${adapter}: this workerpool pool has no worker script, so it runs inline functions only; got task ${JSON.stringify(name)} of ${module}. ` +
          'Pass a self-contained function, or create the pool with workerpool.pool(script)',
      );
    }
    const path = module.startsWith('file:') ? fileURLToPath(module) : module;
    if (path !== script) {
      throw new TypeError(
        `${adapter}: workerpool runs the methods of its own worker script (${script}), got task ${JSON.stringify(name)} of ${path}. ` +
          `Pass task(<the pool's script>, ${JSON.stringify(name)})`,
      );
    }
  };
  return new AdaptedPool({
    adapter,
    maxWorkers,
    check,
    start(fn, value) {
      const promise = pool.exec(typeof fn === 'function' ? portable(fn) : (fn as TaskRef).name, [value]);
      return { result: promise, cancel: () => promise.cancel() };
    },
  });
}
