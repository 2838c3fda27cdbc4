import { defer, finalize, type OperatorFunction } from 'rxjs';
import type { WorkerPool } from '../pools/WorkerPool.ts';
import type { Task } from '../pools/Pool.ts';
import {
  PROCESS_POOL_OPTIONS,
  THREAD_POOL_OPTIONS,
  validateProcessPoolOptions,
  validateThreadPoolOptions,
  type ProcessPoolOptions,
  type ThreadPoolOptions,
} from '../pools/options.ts';
import { ProcessPool } from '../pools/ProcessPool.ts';
import { ThreadPool } from '../pools/ThreadPool.ts';
import { mapOnPool } from './mapOnPool.ts';
import { MAP_ON_POOL_OPTIONS, expectTask, resolveMapOnPoolOptions, splitOptions } from './options.ts';

/** What differs between mapOnThreads and mapOnProcesses: the pool's option names, checks and class. */
export interface OwnPool<O> {
  readonly keys: readonly string[];
  readonly validate: (options: O) => { maxWorkers: number };
  readonly create: (options: O) => WorkerPool;
}

/** The pool of mapOnThreads and flatMapOnThreads. */
export const threadPools: OwnPool<ThreadPoolOptions> = {
  keys: THREAD_POOL_OPTIONS,
  validate: validateThreadPoolOptions,
  create: (options) => new ThreadPool(options),
};

/** The pool of mapOnProcesses and flatMapOnProcesses. */
export const processPools: OwnPool<ProcessPoolOptions> = {
  keys: PROCESS_POOL_OPTIONS,
  validate: validateProcessPoolOptions,
  create: (options) => new ProcessPool(options),
};

/** An operator over a pool of its own: its option names and checks, and the operator on a given pool. */
export interface OnOwnPool<T, R> {
  readonly keys: readonly string[];
  readonly check: (operator: string, options: Record<string, unknown>) => void;
  readonly make: (pool: WorkerPool, options: Record<string, unknown>) => OperatorFunction<T, R>;
}

/**
 * `inner` over a pool of its own per subscription, created on subscribe (workers start on the
 * first value) and shut down when the subscription ends. Options are split and all validated now.
 */
export function onOwnPool<T, R, O>(operator: string, pool: OwnPool<O>, inner: OnOwnPool<T, R>, fn: Task, options: object): OperatorFunction<T, R> {
  expectTask(operator, fn);
  const { poolOptions, operatorOptions } = splitOptions(operator, options, pool.keys, inner.keys);
  pool.validate(poolOptions as O);
  inner.check(operator, operatorOptions);
  return (source) =>
    defer(() => {
      const own = pool.create(poolOptions as O);
      return source.pipe(
        inner.make(own, operatorOptions),
        // The inner operator's teardown has cancelled this subscription's work by now.
        finalize(() => void own.shutdown({ wait: false, cancelPending: true })),
      );
    });
}

/** mapOnPool over a pool of its own per subscription (mapOnThreads, mapOnProcesses). */
export function mapOnOwnPool<T, R, O>(
  operator: string,
  pool: OwnPool<O>,
  fn: Task<(value: T) => R | PromiseLike<R>>,
  options: object,
): OperatorFunction<T, R> {
  return onOwnPool<T, R, O>(
    operator,
    pool,
    { keys: MAP_ON_POOL_OPTIONS, check: (name, o) => void resolveMapOnPoolOptions(name, o), make: (own, o) => mapOnPool<T, R>(own, fn, o) },
    fn,
    options,
  );
}
