import type { OperatorFunction } from 'rxjs';
import type { Task } from '../pools/Pool.ts';
import type { ThreadPoolOptions } from '../pools/options.ts';
import { mapOnOwnPool, threadPools } from './mapOnOwnPool.ts';
import type { MapOnPoolOptions } from './options.ts';

/** Options of {@link mapOnThreads}: the operator's and the `ThreadPool`'s. */
export interface MapOnThreadsOptions<T = unknown> extends MapOnPoolOptions<T>, ThreadPoolOptions {}

/**
 * Maps each value on worker threads: {@link mapOnPool} over a `ThreadPool` of its own, created
 * when you subscribe and shut down when the subscription ends (complete, error or unsubscribe),
 * so no worker outlives it. Every subscription gets its own pool; workers start lazily, on the
 * first value, so a subscription that never sees a value starts none.
 *
 * ```text
 * source   -a-b-c-|          each task takes 6 ms; maxWorkers 2
 *
 *      mapOnThreads(x => x * 10, { maxWorkers: 2 })
 *
 * output   -------A-B---(C|) in input order; c waits for a free thread
 * ```
 *
 * ## Example
 * ```ts
 * import { range } from 'rxjs';
 * import { mapOnThreads } from 'rxjs-pools';
 *
 * range(1, 4)
 *   .pipe(mapOnThreads((n: number) => n * n, { maxWorkers: 2 }))
 *   .subscribe((y) => console.log(y));
 * // 1
 * // 4
 * // 9
 * // 16
 * ```
 *
 * @see mapOnPool for the semantics (order, bounds, overflow, errors, cancellation).
 * @see mapOnProcesses for child processes instead of threads.
 * @param fn The task, receiving one value: a self-contained function or a `task(module, name)`.
 * @param options The operator options (`concurrency`, `chunksize`, `ordered`, `maxBuffered`,
 * `overflow`, `onDrop`) and the `ThreadPool` options (`maxWorkers`, `taskTimeout`,
 * `maxTasksPerWorker`, `idleTimeout`, `initializer`, `initArgs`, `resourceLimits`); all
 * validated now. `concurrency` defaults to `maxWorkers`.
 * @returns An operator emitting `fn(value)` for each source value.
 */
export function mapOnThreads<T, R>(
  fn: Task<(value: T) => R | PromiseLike<R>>,
  options: MapOnThreadsOptions<T> = {},
): OperatorFunction<T, R> {
  return mapOnOwnPool('mapOnThreads', threadPools, fn, options);
}
