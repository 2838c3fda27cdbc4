export { ThreadPool } from './ThreadPool.ts';
export { ProcessPool } from './ProcessPool.ts';
export { WorkerPool } from './WorkerPool.ts';
export { task, isTaskRef } from './task.ts';
export { isPoolWorker } from './worker-flag.ts';
export { transfer } from './transfer.ts';
export {
  validateThreadPoolOptions,
  validateProcessPoolOptions,
  THREAD_POOL_OPTIONS,
  PROCESS_POOL_OPTIONS,
  type PoolOptions,
  type ThreadPoolOptions,
  type ProcessPoolOptions,
} from './options.ts';
export type {
  Pool,
  Task,
  TaskRef,
  TaskFn,
  TaskArgs,
  TaskResult,
  BatchResult,
  BatchCallback,
  Batching,
  RunBatchOptions,
  Cancel,
  AnyFn,
  PoolStats,
  MapOptions,
  SubmitOptions,
} from './Pool.ts';
// The errors, asCompleted and wait need no rxjs: they belong with the pools (`instanceof` works without loading rxjs).
export * from '../errors.ts';
export { asCompleted, wait, type AsCompletedOptions, type WaitOptions, type WaitResult, type ReturnWhen, type Outcome } from '../futures/index.ts';
