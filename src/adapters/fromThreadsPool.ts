import type { Pool, Task, TaskRef } from '../pools/Pool.ts';
import { describe, isTaskRef } from '../pools/task.ts';
import { AdaptedPool } from './AdaptedPool.ts';
import { expectCount, expectLibraryPool } from './checks.ts';

/** threads.js's `QueuedTask`: a thenable with `cancel()` (effective only while still queued). */
export interface ThreadsQueuedTaskLike extends PromiseLike<unknown> {
  cancel(): void;
}

/**
 * The part of a threads.js `Pool` the adapter uses. Declared here, so that the package
 * type-checks and loads without `threads` installed (whose types do not resolve under
 * `moduleResolution: NodeNext` anyway): the adapter never imports it.
 */
export interface ThreadsPoolLike<W = any> {
  queue(run: (worker: W) => Promise<unknown>): ThreadsQueuedTaskLike;
}

/**
 * How one value runs on a threads.js worker (on the main thread, with the worker's proxy):
 * `(worker, value, task) => worker.hash(value)`. `task` is what was passed to the operator.
 */
export type ThreadsCall<W = any, T = any> = (worker: W, value: T, task: Task) => unknown;

/** The default call: the method the task names, on the proxy of a worker that `expose`d it. */
function callByName(worker: unknown, value: unknown, task: Task): unknown {
  const { name } = task as TaskRef;
  if (name === 'default' && typeof worker === 'function') return (worker as (v: unknown) => unknown)(value); // expose(fn)
  const method = (worker as Record<string, unknown> | null)?.[name];
  if (typeof method !== 'function') {
    const exposed = typeof worker === 'object' && worker !== null ? Object.keys(worker).filter((k) => typeof (worker as Record<string, unknown>)[k] === 'function') : [];
    throw new TypeError(`fromThreadsPool: the threads.js worker exposes no method ${JSON.stringify(name)} (it exposes: ${exposed.join(', ') || 'nothing by name'})`);
  }
  return (method as (v: unknown) => unknown).call(worker, value);
}

/** size × concurrency of a threads.js pool (fields its types mark private: threads 1.7, the last release). */
function threadsMaxWorkers(pool: object): number {
  const { workers, options } = pool as { workers?: unknown; options?: { concurrency?: unknown } };
  if (!Array.isArray(workers)) {
    throw new TypeError(`fromThreadsPool: cannot read the size of this threads.js pool (no \`workers\` array, got ${describe(workers)}); expected a Pool from threads 1.x`);
  }
  const size = expectCount('fromThreadsPool', "the threads.js pool's size", workers.length);
  return size * expectCount('fromThreadsPool', "the threads.js pool's options.concurrency", options?.concurrency ?? 1);
}

/**
 * Runs the operators on an existing threads.js (`threads` package) pool: each value becomes one
 * `pool.queue(worker => …)`, with the operator's order, bound and backpressure: only
 * `maxWorkers` tasks are ever queued on threads.js, whose cost per task grows with its queue.
 *
 * - **Task**: a `task(module, name)` reference to a method the worker `expose`s: the adapter calls
 *   `worker[name](value)` (`name` `'default'`: `worker(value)` for `expose(fn)`). threads.js does
 *   not say which module a pool spawned, so `module` is not checked: it gives the types, and lets
 *   the same reference run on a `ThreadPool` when you move over. Or pass a `call`, `(worker, value,
 *   task) => worker.hash(value, salt)`, to run anything on the worker's proxy; the task you pass to
 *   the operator is its third argument (then any task is accepted, inline functions included).
 * - **maxWorkers**: the pool's size × its `concurrency` option.
 * - **Cancellation**: threads.js has no AbortSignal. `QueuedTask.cancel()` drops a task still in
 *   its queue (it never runs). A task already running **cannot be stopped**: it runs to its end on
 *   the worker, which stays busy until then, and its result is discarded. (threads.js also never
 *   settles a cancelled task's promise; the adapter does not wait for it.)
 * - threads.js leaves a task pending forever when its worker exits (see the README): if that can
 *   happen, put RxJS's `timeout({ each: ms })` after the operator (or give `runBatch` a `timeout`).
 * - The pool stays yours: `await pool.terminate()` when done.
 *
 * ## Example
 * ```ts
 * import { Pool, spawn, Worker } from 'threads';
 * import { fromThreadsPool } from 'rxjs-pools/adapters';
 *
 * const pool = Pool(() => spawn(new Worker('./worker.mjs')), 4); // expose({ hash })
 * const hash = task<(s: string) => string>(new URL('./worker.mjs', import.meta.url), 'hash');
 * lines$.pipe(mapOnPool(fromThreadsPool(pool), hash));
 * ```
 * @param pool A threads.js `Pool` (threads 1.x).
 * @param call How a value runs on a worker; default: `worker[task.name](value)`.
 * @returns A {@link Pool} for `mapOnPool` and `mapSettled`.
 */
export function fromThreadsPool<W = any>(pool: ThreadsPoolLike<W>, call?: ThreadsCall<W>): Pool {
  const adapter = 'fromThreadsPool';
  expectLibraryPool(adapter, 'a threads.js Pool', pool, ['queue']);
  if (call !== undefined && typeof call !== 'function') {
    throw new TypeError(`${adapter}: expected \`call\` to be a function (worker, value, task) => result, got ${describe(call)}`);
  }
  const run = (call ?? callByName) as ThreadsCall<W>;
  return new AdaptedPool({
    adapter,
    maxWorkers: threadsMaxWorkers(pool),
    check(fn) {
      if (call !== undefined || isTaskRef(fn)) return;
      throw new TypeError(
        `${adapter} calls a method the threads.js worker exposes: pass task(workerModule, 'method'), or give fromThreadsPool a call ` +
          `such as (worker, value) => worker.method(value); got ${typeof fn === 'function' ? `an inline function (${describe(fn)})` : describe(fn)}`,
      );
    },
    start(fn, value) {
      const queued = pool.queue(async (worker) => run(worker, value, fn));
      return { result: queued, cancel: () => queued.cancel() };
    },
  });
}
