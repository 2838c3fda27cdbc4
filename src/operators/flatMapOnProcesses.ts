import type { OperatorFunction } from 'rxjs';
import type { StreamFn, Task } from '../pools/Pool.ts';
import type { ProcessPoolOptions } from '../pools/options.ts';
import { flatMapOnPool } from './flatMapOnPool.ts';
import { onOwnPool, processPools } from './mapOnOwnPool.ts';
import { FLAT_MAP_ON_POOL_OPTIONS, resolveFlatMapOnPoolOptions, type FlatMapOnPoolOptions } from './options.ts';

/** Options of {@link flatMapOnProcesses}: the operator's and the `ProcessPool`'s. */
export interface FlatMapOnProcessesOptions<T = unknown> extends FlatMapOnPoolOptions<T>, ProcessPoolOptions {}

/**
 * Runs a streaming task on child processes for each value and emits every value it yields:
 * {@link flatMapOnPool} over a `ProcessPool` of its own, created when you subscribe and shut down
 * when the subscription ends (complete, error or unsubscribe), so no worker outlives it.
 *
 * ```text
 * source   ab|                    a's task yields 1, 2, 3; b's yields 4, 5; each value takes 3 ms
 *
 *      flatMapOnProcesses(fn, { maxWorkers: 2 })
 *
 * output   ---1--2--(345|)        in input order: b ran beside a, its values waited for a's end
 * ```
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { flatMapOnProcesses } from 'rxjs-pools';
 *
 * from(['ab', 'cde'])
 *   .pipe(flatMapOnProcesses(function* (word: string) { yield* word.toUpperCase(); }, { maxWorkers: 2 }))
 *   .subscribe((letter) => console.log(letter));
 * // A
 * // B
 * // C
 * // D
 * // E
 * ```
 *
 * @see flatMapOnPool for the semantics (order, credits, errors, cancellation).
 * @see flatMapOnThreads for worker threads: cheaper to start, sharing one process.
 * @param fn The streaming task, receiving one value: a self-contained (async) generator function or a
 * `task(module, name)` reference to one.
 * @param options The operator options (`concurrency`, `ordered`, `buffersize`, `maxBuffered`,
 * `overflow`, `onDrop`) and the `ProcessPool` options (`maxWorkers`, `taskTimeout`,
 * `maxTasksPerWorker`, `idleTimeout`, `initializer`, `initArgs`, `execArgv`, `env`); all validated
 * now. `concurrency` defaults to `maxWorkers`.
 * @returns An operator emitting every value `fn(value)` yields, for each source value.
 */
export function flatMapOnProcesses<T, R>(fn: Task<StreamFn<[T], R>>, options: FlatMapOnProcessesOptions<T> = {}): OperatorFunction<T, R> {
  return onOwnPool<T, R, ProcessPoolOptions>(
    'flatMapOnProcesses',
    processPools,
    { keys: FLAT_MAP_ON_POOL_OPTIONS, check: (name, o) => void resolveFlatMapOnPoolOptions(name, o), make: (pool, o) => flatMapOnPool<T, R>(pool, fn, o) },
    fn,
    options,
  );
}
