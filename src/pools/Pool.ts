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

/** The interface `mapOnPool` consumes. */
export interface Pool {
  /** How many tasks the pool runs at once; the operators' default `concurrency`. */
  readonly maxWorkers: number;
  /**
   * Runs `fn(item)` for each item, in order, as one unit of dispatch (one message to one worker).
   * `callback` is never called synchronously from within `runBatch`, and never after `cancel`.
   */
  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>): Cancel;
}
