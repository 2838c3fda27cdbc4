/**
 * The ordered window: the one core behind `pool.map`, `mapSettled` and `mapOnPool`.
 *
 *     input (waiting items) ──fill()──► running batches ──settle──► held outcomes ──take()──► consumer
 *         Queue<T>             ≤ concurrency, each      pool.runBatch   reorder buffer      in order, or
 *                              ≤ chunksize items                        (ordered)           as they settle
 *
 * One chunking rule: a batch takes what is waiting, up to `chunksize`, as soon as there is room for
 * it. Nothing waits to fill a batch: the drivers decide when items count as "waiting" (the push
 * driver, `mapOnPool`, at once; the pull driver, `PullWindow`, once its reader has nothing more
 * to give in this turn of the event loop), so a live feed never waits for later records.
 *
 * The window knows nothing of Observables or iterators: it starts, settles, hands out outcomes in
 * order, cancels after a failure, and says whether there is room.
 */

import { AbortError } from '../errors.ts';
import type { BatchResult, Cancel, Pool, RunBatchOptions, Task } from './Pool.ts';
import { Queue } from './Queue.ts';

/** How a window runs. */
export interface WindowOptions {
  /** Hand outcomes out in input order (`true`), or as they settle. */
  readonly ordered: boolean;
  /**
   * Batches started and not settled, at most; ordered, also the reorder buffer's bound (no batch
   * starts while that many settled outcomes wait for an earlier one). `'auto'`: what the pool says
   * keeps its workers busy for this task (`pool.batching`), else its `maxWorkers`.
   */
  readonly concurrency: number | 'auto';
  /** Items per batch, at most; `'auto'`: the pool's preferred size for this task, else 1. */
  readonly chunksize: number | 'auto';
  /** Stop at the first failed item: later batches are cancelled and nothing after it is handed out. */
  readonly failFast: boolean;
  /** Per-item running limit passed to the pool. */
  readonly timeout?: number | undefined;
  /** Who runs the window, for cancellation reasons: `mapOnPool`, `map()`, … */
  readonly label: string;
}

/** A settled batch. */
export interface Outcome<T, R> {
  /** How many items the window had started before this batch: `items[i]` is item `start + i`. */
  readonly start: number;
  readonly items: readonly T[];
  /** `values[i]` is item i's result (meaningless where it failed). A consumer may clear what it handed out. */
  readonly values: R[];
  /** Per-item errors; undefined when no item failed on its own. */
  readonly errors: readonly (Error | undefined)[] | undefined;
  /** The batch failed as a whole (worker crash, timeout, shutdown, broken pool): every item failed with it. */
  readonly error: Error | undefined;
  /** Items before the first failure (all of them when none failed). */
  readonly ok: number;
}

/** The first failure of an outcome: the batch-wide error (at item 0) or the first failed item's. */
export function failureOf(outcome: Outcome<unknown, unknown>): Error | undefined {
  return outcome.error ?? outcome.errors?.[outcome.ok];
}

/** The error of item `i` of an outcome, if it failed. */
export function errorAt(outcome: Outcome<unknown, unknown>, i: number): Error | undefined {
  return outcome.error ?? outcome.errors?.[i];
}

function outcomeOf<T, R>(start: number, items: readonly T[], error: Error | undefined, result: BatchResult<R> | undefined): Outcome<T, R> {
  if (error !== undefined || result === undefined) {
    const failure = error ?? new TypeError('The pool settled a batch with neither an error nor a result');
    return { start, items, values: [], errors: undefined, error: failure, ok: 0 };
  }
  const { errors } = result;
  let ok = items.length;
  if (errors !== undefined) {
    for (let i = 0; i < items.length; i++) {
      if (errors[i] != null) {
        ok = i;
        break;
      }
    }
  }
  return { start, items, values: result.values as R[], errors: ok < items.length ? errors : undefined, error: undefined, ok };
}

export class BatchWindow<T, R> {
  /** Items waiting for room; a driver pushes here (and applies its own bound or overflow policy). */
  readonly input = new Queue<T>();
  readonly #pool: Pool;
  readonly #fn: Task;
  readonly #options: WindowOptions;
  readonly #runOptions: RunBatchOptions | undefined;
  readonly #onSettle: () => void;
  /** Batches started and not settled, by number; the cancel is set once `runBatch` has returned. */
  readonly #running = new Map<number, Cancel | undefined>();
  /**
   * Settled outcomes not yet taken, by batch number. Ordered: the reorder buffer. Unordered: those
   * that settled since the last `take` (a Map iterates in insertion order: the oldest first).
   */
  readonly #held = new Map<number, Outcome<T, R>>();
  #nextBatch = 0;
  /** Ordered: the batch handed out next. */
  #nextTake = 0;
  /** Items started so far. */
  #started = 0;
  /** The earliest batch known to have failed (fail-fast); nothing after it starts or is handed out. */
  #failedAt = Infinity;
  #closed = false;
  /** The concurrency bound, refreshed from the pool's hint whenever a batch settles ('auto'). */
  #limit: number;

  /**
   * @param onSettle Called (never synchronously from `start`) each time a batch settles: the driver
   * then takes what is ready and fills the window again.
   */
  constructor(pool: Pool, fn: Task, options: WindowOptions, onSettle: () => void) {
    this.#pool = pool;
    this.#fn = fn;
    this.#options = options;
    this.#runOptions = options.timeout === undefined ? undefined : { timeout: options.timeout };
    this.#onSettle = onSettle;
    this.#limit = this.#concurrency();
  }

  /** Batches started and not settled. */
  get running(): number {
    return this.#running.size;
  }

  /** Settled outcomes waiting to be taken. */
  get held(): number {
    return this.#held.size;
  }

  /** Nothing waits, runs or is held. */
  get idle(): boolean {
    return this.input.length === 0 && this.#running.size === 0 && this.#held.size === 0;
  }

  /** A failure was seen (fail-fast) or the window was closed: no batch starts any more. */
  get stopped(): boolean {
    return this.#failedAt !== Infinity || this.#closed;
  }

  /** Whether a batch may start now. */
  canStart(): boolean {
    if (this.#failedAt !== Infinity || this.#closed) return false;
    return this.#running.size < this.#limit && (!this.#options.ordered || this.#held.size < this.#limit);
  }

  /** Items the next batch takes, at most. */
  chunksize(): number {
    const { chunksize } = this.#options;
    return chunksize === 'auto' ? (this.#pool.batching?.(this.#fn).chunksize ?? 1) : chunksize;
  }

  /** Starts batches from the input while there is room. Throws what the pool's `runBatch` throws. */
  fill(): void {
    if (this.input.length === 0 || !this.canStart()) return;
    const size = this.chunksize();
    while (this.input.length > 0 && this.canStart()) this.start(this.input.take(size));
  }

  /** Starts one batch of `items` now (a value that found room never waits in the input). */
  start(items: T[]): void {
    const batch = this.#nextBatch++;
    const start = this.#started;
    this.#started += items.length;
    this.#running.set(batch, undefined);
    let cancel: Cancel;
    try {
      cancel = this.#pool.runBatch<T, R>(
        this.#fn as Task<(value: T) => R>,
        items,
        (error, result) => this.#settle(batch, start, items, error, result),
        this.#runOptions,
      );
    } catch (error) {
      this.#running.delete(batch);
      throw error;
    }
    if (this.#running.has(batch)) this.#running.set(batch, cancel);
  }

  /** The next outcome to hand out (ordered: only the next in input order), or undefined. */
  take(): Outcome<T, R> | undefined {
    if (this.#options.ordered) {
      const outcome = this.#held.get(this.#nextTake);
      if (outcome === undefined) return undefined;
      this.#held.delete(this.#nextTake++);
      return outcome;
    }
    for (const [batch, outcome] of this.#held) {
      this.#held.delete(batch);
      return outcome;
    }
    return undefined;
  }

  /** Ends the window: every running batch is cancelled (in one pass), waiting items and held outcomes are dropped. */
  close(reason: AbortError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelFrom(0, reason);
    this.input.clear();
    this.#held.clear();
  }

  #concurrency(): number {
    const { concurrency } = this.#options;
    if (concurrency !== 'auto') return concurrency;
    const { chunksize } = this.#options;
    const hint = this.#pool.batching?.(this.#fn, chunksize === 'auto' ? undefined : chunksize);
    return hint?.concurrency ?? this.#pool.maxWorkers;
  }

  #cancelFrom(from: number, reason: AbortError): void {
    for (const [batch, cancel] of this.#running) {
      if (batch < from) continue;
      this.#running.delete(batch);
      cancel?.(reason);
    }
  }

  #settle(batch: number, start: number, items: readonly T[], error: Error | undefined, result: BatchResult<R> | undefined): void {
    if (!this.#running.delete(batch)) return; // cancelled: a pool must not call back, but be safe
    const outcome = outcomeOf<T, R>(start, items, error, result);
    if (this.#options.failFast && this.#options.ordered && outcome.ok < items.length && batch < this.#failedAt) {
      this.#failedAt = batch;
      const failure = failureOf(outcome);
      this.#cancelFrom(batch + 1, new AbortError(`${this.#options.label}: an earlier item failed`, { cause: failure }));
      for (const later of this.#held.keys()) if (later > batch) this.#held.delete(later);
      this.input.clear();
    }
    this.#held.set(batch, outcome);
    if (this.#options.concurrency === 'auto') this.#limit = this.#concurrency();
    this.#onSettle();
  }
}
