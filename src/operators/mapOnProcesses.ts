import type { OperatorFunction } from 'rxjs';
import type { Task } from '../pools/Pool.ts';
import type { ProcessPoolOptions } from '../pools/options.ts';
import { mapOnOwnPool, processPools } from './mapOnOwnPool.ts';
import type { MapOnPoolOptions } from './options.ts';

/** Options of {@link mapOnProcesses}: the operator's and the `ProcessPool`'s. */
export interface MapOnProcessesOptions<T = unknown> extends MapOnPoolOptions<T>, ProcessPoolOptions {}

/**
 * Maps each value on child processes: {@link mapOnPool} over a `ProcessPool` of its own, created
 * when you subscribe and shut down when the subscription ends (complete, error or unsubscribe),
 * so no worker outlives it. Every subscription gets its own pool; workers start lazily, on the
 * first value, so a subscription that never sees a value starts none.
 *
 * ```text
 * source   -a-b-c-|          each task takes 6 ms; maxWorkers 2
 *
 *      mapOnProcesses(x => x * 10, { maxWorkers: 2 })
 *
 * output   -------A-B---(C|) in input order; c waits for a free process
 * ```
 *
 * ## Example
 * ```ts
 * import { range } from 'rxjs';
 * import { mapOnProcesses } from 'rxjs-pools';
 *
 * range(1, 4)
 *   .pipe(mapOnProcesses((n: number) => n * n, { maxWorkers: 2 }))
 *   .subscribe((y) => console.log(y));
 * // 1
 * // 4
 * // 9
 * // 16
 * ```
 *
 * @see mapOnPool for the semantics (order, bounds, overflow, errors, cancellation).
 * @see mapOnThreads for worker threads: cheaper to start, sharing one process.
 * @param fn The task, receiving one value: a self-contained function or a `task(module, name)`.
 * @param options The operator options (`concurrency`, `chunksize`, `ordered`, `maxBuffered`,
 * `overflow`, `onDrop`) and the `ProcessPool` options (`maxWorkers`, `taskTimeout`,
 * `maxTasksPerWorker`, `idleTimeout`, `initializer`, `initArgs`, `execArgv`, `env`); all
 * validated now. `concurrency` defaults to `maxWorkers`.
 * @returns An operator emitting `fn(value)` for each source value.
 */
export function mapOnProcesses<T, R>(
  fn: Task<(value: T) => R | PromiseLike<R>>,
  options: MapOnProcessesOptions<T> = {},
): OperatorFunction<T, R> {
  return mapOnOwnPool('mapOnProcesses', processPools, fn, options);
}
