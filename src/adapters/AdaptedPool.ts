/**
 * The one `Pool` implementation behind every adapter: it runs a batch's items one after another
 * on the library, settles the batch exactly once (never synchronously, never after cancel), and
 * cancels through whatever the library offers. Each adapter only says how to start one item.
 */
import { inspect } from 'node:util';
import { TaskError, TaskTimeoutError } from '../errors.ts';
import { expectDuration } from '../pools/options.ts';
import type { BatchCallback, BatchResult, Cancel, Pool, RunBatchOptions, Task } from '../pools/Pool.ts';
import { describe } from '../pools/task.ts';

/** One item handed to the library: what it will give, and how to withdraw it. */
export interface Started {
  readonly result: PromiseLike<unknown>;
  /** Withdraws the item through the library (abort, cancel); what that does is the library's. */
  cancel(reason: unknown): void;
}

/** What an adapter tells {@link AdaptedPool} about its library. */
export interface Library {
  /** The adapter's name, for messages: `fromPiscina`, … */
  readonly adapter: string;
  /** Tasks the library runs at once, read from its configuration. */
  readonly maxWorkers: number;
  /** Throws a TypeError naming what the library can run when it cannot run `fn`. */
  check(fn: Task): void;
  /** Hands one item to the library (may throw: that item fails). */
  start(fn: Task, value: unknown): Started;
}

/** A rejection reason as the item's Error: a non-Error arrives wrapped, as from the pools. */
function asError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  return new TaskError(`Task threw a non-Error value: ${inspect(reason, { depth: 2, breakLength: Infinity }).slice(0, 200)}`, reason);
}

/**
 * A user's pool behind our {@link Pool} interface. `maxWorkers` is the library's; `batching` is
 * absent, so the operators default to `concurrency: maxWorkers` and `chunksize: 1` (one library
 * call a value, so a larger chunksize saves nothing here: it only runs values one after another).
 */
export class AdaptedPool implements Pool {
  readonly maxWorkers: number;
  readonly #library: Library;

  constructor(library: Library) {
    this.#library = library;
    this.maxWorkers = library.maxWorkers;
  }

  /**
   * Runs the items one after another (a batch is one unit, as on a worker): an item that fails is
   * recorded in `errors` and the next one runs. `options.timeout` limits each item from the
   * moment it is handed to the library (the libraries do not say when a worker picks it up); past
   * it the batch fails with `TaskTimeoutError` and the item is cancelled through the library.
   */
  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>, options?: RunBatchOptions): Cancel {
    let phase: 'running' | 'settled' | 'cancelled' = 'running';
    /** True while runBatch itself runs: a settlement then waits for a microtask. */
    let inCall = true;
    let current: Started | undefined;
    let timer: NodeJS.Timeout | undefined;

    const settle = (error: Error | undefined, result: BatchResult<R> | undefined) => {
      if (inCall) return void queueMicrotask(() => settle(error, result));
      if (phase !== 'running') return;
      phase = 'settled';
      clearTimeout(timer);
      current = undefined;
      callback(error, result);
    };

    let timeout: number | undefined;
    try {
      this.#library.check(fn);
      if (!Array.isArray(items)) throw new TypeError(`Expected \`items\` to be an array, got ${describe(items)}`);
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw new TypeError(`Expected the options of runBatch to be an object, got ${describe(options)}`);
      }
      if (options?.timeout !== undefined) timeout = expectDuration('timeout', options.timeout);
    } catch (error) {
      // As the pools do: a batch that cannot run is settled with the error, asynchronously.
      settle(error as Error, undefined);
      inCall = false;
      return () => void (phase = phase === 'running' ? 'cancelled' : phase);
    }

    const values: R[] = new Array(items.length);
    let errors: (Error | undefined)[] | undefined;

    const run = (i: number): void => {
      if (phase !== 'running') return;
      if (i === items.length) return settle(undefined, errors ? { values, errors } : { values });
      const failed = (reason: unknown) => {
        (errors ??= new Array(items.length))[i] = asError(reason);
      };
      let started: Started;
      try {
        started = this.#library.start(fn, items[i]);
      } catch (reason) {
        failed(reason);
        return void queueMicrotask(() => run(i + 1));
      }
      current = started;
      if (timeout !== undefined && timeout !== Infinity) {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (phase !== 'running' || current !== started) return;
          const error = new TaskTimeoutError(`${this.#library.adapter}: a task ran longer than its timeout of ${timeout} ms`, timeout);
          settle(error, undefined);
          started.cancel(error);
        }, timeout);
      }
      const done = (record: () => void) => {
        if (current !== started || phase !== 'running') return; // cancelled or timed out: its outcome is no one's
        current = undefined;
        record();
        run(i + 1);
      };
      try {
        started.result.then(
          (value) => done(() => (values[i] = value as R)),
          (reason: unknown) => done(() => failed(reason)),
        );
      } catch (reason) {
        done(() => failed(reason));
      }
    };

    run(0);
    inCall = false;
    return (reason?: unknown) => {
      if (phase !== 'running') return;
      phase = 'cancelled';
      clearTimeout(timer);
      const item = current;
      current = undefined;
      item?.cancel(reason);
    };
  }
}
