import { defer, finalize, type OperatorFunction } from 'rxjs';
import type { WorkerPool } from '../pools/WorkerPool.ts';
import type { Task } from '../pools/Pool.ts';
import { mapOnPool } from './mapOnPool.ts';
import { expectTask, resolveMapOnPoolOptions, splitOptions } from './options.ts';

/** What differs between mapOnThreads and mapOnProcesses: the pool's option names, checks and class. */
export interface OwnPool<O> {
  readonly keys: readonly string[];
  readonly validate: (options: O) => { maxWorkers: number };
  readonly create: (options: O) => WorkerPool;
}

/**
 * mapOnPool over a pool of its own per subscription, created on subscribe (workers start on the
 * first value) and shut down when the subscription ends. Options are split and all validated now.
 */
export function mapOnOwnPool<T, R, O>(
  operator: string,
  pool: OwnPool<O>,
  fn: Task<(value: T) => R | PromiseLike<R>>,
  options: object,
): OperatorFunction<T, R> {
  expectTask(operator, fn);
  const { poolOptions, operatorOptions } = splitOptions(operator, options, pool.keys);
  pool.validate(poolOptions as O);
  resolveMapOnPoolOptions(operator, operatorOptions);
  return (source) =>
    defer(() => {
      const own = pool.create(poolOptions as O);
      return source.pipe(
        mapOnPool<T, R>(own, fn, operatorOptions),
        // mapOnPool's teardown has cancelled this subscription's batches by now.
        finalize(() => void own.shutdown({ wait: false, cancelPending: true })),
      );
    });
}
