/**
 * Every error this library raises, in one place.
 *
 * All of them extend {@link PoolError}, so `err instanceof PoolError` tells a pool failure from a
 * failure of the task itself (a task's own errors arrive with their own name and class).
 */

/**
 * Marks an error the library raised (in this realm or in a worker, whichever copy of the library
 * made it), so that only such errors are rebuilt as the library's classes when they cross a
 * worker boundary: a task's own error named `AbortError` stays the task's.
 */
const RAISED_BY_POOL = Symbol.for('rxjs-pools.error');

/** Base class of the errors raised by the pools and operators themselves. */
export class PoolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // `name` as an own property, so it survives logging and structured clone.
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true });
    Object.defineProperty(this, RAISED_BY_POOL, { value: true });
  }
}

/** A task threw something that is not an Error; the thrown value is kept as `value`. */
export class TaskError extends PoolError {
  readonly value: unknown;
  constructor(message: string, value: unknown, options?: ErrorOptions) {
    super(message, options);
    this.value = value;
  }
}

/** The worker running a task exited (crash, `process.exit`, out of memory, killed). */
export class WorkerCrashedError extends PoolError {
  /** Exit code of the worker, or `null` when it was ended by a signal. */
  readonly exitCode: number | null;
  /** Signal that ended a child process (`'SIGKILL'`, …), or `null`. */
  readonly signal: NodeJS.Signals | null;
  constructor(message: string, exitCode: number | null, signal: NodeJS.Signals | null, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** A task ran longer than its `timeout` (or the pool's `taskTimeout`); its worker was replaced. */
export class TaskTimeoutError extends PoolError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeout: number;
  constructor(message: string, timeout: number) {
    super(message);
    this.timeout = timeout;
  }
}

/**
 * `asCompleted` had to wait past its `timeout` for the next promise to settle (Python's
 * `TimeoutError` from `as_completed`). Nothing is cancelled: the promises in `pending` are still
 * running, and can be passed to `asCompleted` or `wait` again. (`TaskTimeoutError` means a task was
 * stopped and its worker replaced; this means only that the caller stopped waiting.)
 */
export class WaitTimeoutError extends PoolError {
  /** The limit that passed, in milliseconds from the call to `asCompleted`. */
  readonly timeout: number;
  /** The promises that had not settled by then. */
  readonly pending: ReadonlySet<PromiseLike<unknown>>;
  constructor(message: string, timeout: number, pending: ReadonlySet<PromiseLike<unknown>>) {
    super(message);
    this.timeout = timeout;
    this.pending = pending;
  }
}

/**
 * A task was cancelled: its `signal` aborted, the pool shut down with `cancelPending`, or the
 * subscription that started it ended. The abort reason, if any, is the `cause`.
 */
export class AbortError extends PoolError {}

/** `submit` (or `map`) was called on a pool that is shutting down or shut down. */
export class PoolShutdownError extends PoolError {}

/**
 * Workers keep failing before they can run anything (they exit during start-up, or the
 * `initializer` throws), so the pool stopped respawning them. Every pending and later task
 * rejects with this error; the first failure is the `cause`.
 */
export class BrokenPoolError extends PoolError {}

/** More values arrived than `maxBuffered` allows while every slot was busy (`overflow: 'error'`). */
export class BufferOverflowError extends PoolError {
  /** The `maxBuffered` bound that was exceeded. */
  readonly bound: number;
  constructor(message: string, bound: number) {
    super(message);
    this.bound = bound;
  }
}

/**
 * A pool was created while a worker was importing a task module: the module creates a pool at its
 * top level, so every worker would start more workers. Node's version of Python's
 * `if __name__ == "__main__":` rule.
 */
export class RecursivePoolError extends PoolError {}

/** An argument or a result could not be copied to or from the worker (structured clone). */
export class DataCloneError extends PoolError {}

/**
 * A `RedisPool` job stalled more than `maxStalledCount` times: the worker hosts that took it kept
 * dying (or losing their lock) while they ran it, so BullMQ gave up on it.
 */
export class WorkerLostError extends PoolError {
  /** The BullMQ job that was lost. */
  readonly jobId: string;
  constructor(message: string, jobId: string, options?: ErrorOptions) {
    super(message, options);
    this.jobId = jobId;
  }
}
