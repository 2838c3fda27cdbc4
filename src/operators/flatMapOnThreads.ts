import type { OperatorFunction } from 'rxjs';
import type { StreamFn, Task } from '../pools/Pool.ts';
import type { ThreadPoolOptions } from '../pools/options.ts';
import { flatMapOnPool } from './flatMapOnPool.ts';
import { onOwnPool, threadPools } from './mapOnOwnPool.ts';
import { FLAT_MAP_ON_POOL_OPTIONS, resolveFlatMapOnPoolOptions, type FlatMapOnPoolOptions } from './options.ts';

/** Options of {@link flatMapOnThreads}: the operator's and the `ThreadPool`'s. */
export interface FlatMapOnThreadsOptions<T = unknown> extends FlatMapOnPoolOptions<T>, ThreadPoolOptions {}

/**
 * Runs a streaming task on worker threads for each value and emits every value it yields:
 * {@link flatMapOnPool} over a `ThreadPool` of its own, created when you subscribe and shut down
 * when the subscription ends (complete, error or unsubscribe), so no worker outlives it.
 *
 * ```text
 * source   ab|                    a's task yields 1, 2, 3; b's yields 4, 5; each value takes 3 ms
 *
 *      flatMapOnThreads(fn, { maxWorkers: 2 })
 *
 * output   ---1--2--(345|)        in input order: b ran beside a, its values waited for a's end
 * ```
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { flatMapOnThreads } from 'rxjs-pools';
 *
 * from(['ab', 'cde'])
 *   .pipe(flatMapOnThreads(function* (word: string) { yield* word.toUpperCase(); }, { maxWorkers: 2 }))
 *   .subscribe((letter) => console.log(letter));
 * // A
 * // B
 * // C
 * // D
 * // E
 * ```
 *
 * @see flatMapOnPool for the semantics (order, credits, errors, cancellation).
 * @see flatMapOnProcesses for child processes instead of threads.
 * @param fn The streaming task, receiving one value: a self-contained (async) generator function or a
 * `task(module, name)` reference to one.
 * @param options The operator options (`concurrency`, `ordered`, `buffersize`, `maxBuffered`,
 * `overflow`, `onDrop`) and the `ThreadPool` options (`maxWorkers`, `taskTimeout`,
 * `maxTasksPerWorker`, `idleTimeout`, `initializer`, `initArgs`, `resourceLimits`); all validated
 * now. `concurrency` defaults to `maxWorkers`.
 * @returns An operator emitting every value `fn(value)` yields, for each source value.
 */
export function flatMapOnThreads<T, R>(fn: Task<StreamFn<[T], R>>, options: FlatMapOnThreadsOptions<T> = {}): OperatorFunction<T, R> {
  return onOwnPool<T, R, ThreadPoolOptions>(
    'flatMapOnThreads',
    threadPools,
    { keys: FLAT_MAP_ON_POOL_OPTIONS, check: (name, o) => void resolveFlatMapOnPoolOptions(name, o), make: (pool, o) => flatMapOnPool<T, R>(pool, fn, o) },
    fn,
    options,
  );
}
