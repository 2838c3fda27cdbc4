/**
 * The contract between the operators and whatever runs their tasks.
 *
 * `mapOnPool` knows only this interface. `ThreadPool` and `ProcessPool` implement it on real
 * workers; `VirtualPool` (rxjs-pools/testing) implements it on an RxJS scheduler, so marble tests
 * run the real operator code in virtual time. The interface is callback-based, not Promise-based,
 * because a Promise always settles in a later microtask and could never be exact to the frame.
 */

// biome-ignore lint: `any` is needed so any function type is assignable.
export type AnyFn = (...args: any[]) => unknown;

/**
 * A reference to a function exported by a module, made by {@link task}. Workers import the module
 * themselves, so the function may use imports and module state (an inline function may not).
 * The type parameter is the function's type and is checked at `submit`/`map`/the operators.
 */
export interface TaskRef<F extends AnyFn = AnyFn> {
  /** Absolute `file:` (or other) URL of the module. */
  readonly module: string;
  /** Name of the export (`'default'` for the default export). */
  readonly name: string;
  /** Type-level only: never set. */
  readonly __fn?: F;
}

/** Something a pool can run: a self-contained function (sent by its source) or a {@link TaskRef}. */
export type Task<F extends AnyFn = AnyFn> = F | TaskRef<F>;

/** The function type behind a task. */
export type TaskFn<T> = T extends TaskRef<infer F> ? F : T extends AnyFn ? T : never;
/** The arguments a task takes. */
export type TaskArgs<T> = Parameters<TaskFn<T>>;
/** What a task resolves to (its return value, awaited). */
export type TaskResult<T> = Awaited<ReturnType<TaskFn<T>>>;

/** The outcome of a batch whose items all ran. */
export interface BatchResult<R> {
  /** `values[i]` is item i's result (meaningless where `errors[i]` is set). */
  readonly values: readonly R[];
  /**
   * Per-item errors: `errors[i]` is the Error item i threw (a thrown non-Error arrives wrapped in a
   * `TaskError`, so a failed item always has an Error here). Absent when every item succeeded.
   */
  readonly errors?: readonly (Error | undefined)[];
}

/**
 * Called exactly once per batch, unless the batch was cancelled first. `error` is set when the batch
 * as a whole failed (worker crash, timeout, shutdown, broken pool, clone failure); otherwise `result`
 * holds every item's value or error.
 */
export type BatchCallback<R> = (error: Error | undefined, result: BatchResult<R> | undefined) => void;

/** Cancels a batch: a queued batch never runs, a running one costs its worker. Idempotent. */
export type Cancel = (reason?: unknown) => void;

/** Per-batch options of {@link Pool.runBatch}. */
export interface RunBatchOptions {
  /** Milliseconds each item may run (the batch's limit is `timeout × items`); the pool's own limit when absent. */
  readonly timeout?: number;
}

/**
 * How a pool would like to be fed a task right now: the hint behind the operators' and `map`'s
 * defaults (`concurrency`, `chunksize: 'auto'`). It changes as the pool measures the task.
 */
export interface Batching {
  /** Batches in flight that keep every worker busy (pipelines full), at least 1. */
  readonly concurrency: number;
  /** Items per batch so that one message carries about a millisecond of work, at least 1. */
  readonly chunksize: number;
}

/** The interface `mapOnPool`, `pool.map`'s window and the stream helpers consume. */
export interface Pool {
  /** How many tasks the pool runs at once; the operators' default `concurrency` when it has no {@link Pool.batching}. */
  readonly maxWorkers: number;
  /**
   * Runs `fn(item)` for each item, in order, as one unit of dispatch (one message to one worker).
   * `callback` is never called synchronously from within `runBatch`, and never after `cancel`.
   */
  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>, options?: RunBatchOptions): Cancel;
  /**
   * Optional: the pool's preferred feeding for `fn` (see {@link Batching}): with `chunksize`, how
   * many batches of that size keep it busy; without, its preferred size too. Pools without it (a
   * `VirtualPool`) get `concurrency: maxWorkers` and `chunksize: 1`.
   */
  batching?(fn: Task, chunksize?: number): Batching;
}

/** A snapshot of what a pool is doing. */
export interface PoolStats {
  /**
   * `'open'`; `'closing'` once `shutdown` was called and work or workers remain; `'closed'` when
   * shut down with every worker gone; `'broken'` after a `BrokenPoolError`.
   */
  readonly state: 'open' | 'closing' | 'closed' | 'broken';
  /** Workers alive (starting, busy or idle). */
  readonly workers: number;
  /** Workers running (or holding) at least one task. */
  readonly busy: number;
  /** Tasks waiting for a worker. */
  readonly queued: number;
  /** Tasks (batch items count one each) that returned a value. */
  readonly completed: number;
  /** Tasks that failed: threw, crashed, timed out or could not be sent. */
  readonly failed: number;
  /** Tasks cancelled before they returned: aborted, withdrawn by an operator or `map`, or `shutdown({ cancelPending })`. */
  readonly cancelled: number;
  /** Milliseconds workers have spent running tasks, summed over workers (as measured in them). */
  readonly busyTime: number;
  /** Milliseconds since the pool was created. */
  readonly uptime: number;
  /** `busyTime / (maxWorkers × uptime)`: the share of the pool's capacity used since it started, 0–1. */
  readonly utilization: number;
}

/** Per-call options of `submit`. */
export interface SubmitOptions {
  /** Cancels the task: a queued task never runs; a running one costs its worker. */
  readonly signal?: AbortSignal;
  /** Milliseconds this task may run; overrides the pool's `taskTimeout`. */
  readonly timeout?: number;
  /** ArrayBuffers (and ports) to move to the worker instead of copying (threads only). */
  readonly transfer?: readonly import('node:worker_threads').TransferListItem[];
}

/** Options of `pool.map`. */
export interface MapOptions extends Omit<SubmitOptions, 'transfer'> {
  /**
   * Items read from the iterable ahead of the consumer, at most: `map` never reads further, so it
   * works on infinite and async iterables. At least `chunksize`.
   * @default maxWorkers × max(256, 4 × chunksize)
   */
  readonly buffersize?: number;
  /**
   * Items sent to a worker in one message, at most. Larger chunks amortise the cost of a message
   * over many tiny tasks; a worker crash or timeout fails the whole chunk it was running. `'auto'`
   * sizes each batch from the task's measured time. A chunk never waits to fill: what has been
   * read goes out as soon as there is room.
   * @default 1
   */
  readonly chunksize?: number | 'auto';
  /**
   * Milliseconds from the call to `map` by which every result must be in (Python's `timeout`): past
   * it the iteration throws `TaskTimeoutError` and what is pending is cancelled. (`timeout` is a
   * task's own running time on a worker.)
   */
  readonly totalTimeout?: number;
}
