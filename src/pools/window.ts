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

/** Ordered: the reorder ring's first size (it doubles when more batches are between take and start). */
const RING = 16;
/** The values of a batch still running (never handed out). */
const NO_VALUES: never[] = [];

/**
 * One batch, from its start until it is taken: while it runs, its place in the window's live list
 * and its cancel; once settled, the outcome the consumer takes (one object per batch, no Map entries).
 */
class Batch<T, R> implements Outcome<T, R> {
  values: R[] = NO_VALUES;
  errors: readonly (Error | undefined)[] | undefined = undefined;
  error: Error | undefined = undefined;
  ok = 0;
  /** Its index in the window's live list while it runs; -1 once settled or cancelled. */
  live = -1;
  /** Set once `runBatch` has returned (and dropped when it settles). */
  cancel: Cancel | undefined = undefined;

  constructor(
    /** Its number, in the order batches started. */
    readonly number: number,
    readonly start: number,
    readonly items: readonly T[],
  ) {}

  /** Records what the pool answered. */
  settle(error: Error | undefined, result: BatchResult<R> | undefined): void {
    this.cancel = undefined;
    if (error !== undefined || result === undefined) {
      this.error = error ?? new TypeError('The pool settled a batch with neither an error nor a result');
      this.values = [];
      return;
    }
    const { errors } = result;
    const { items } = this;
    let ok = items.length;
    if (errors !== undefined) {
      for (let i = 0; i < items.length; i++) {
        if (errors[i] != null) {
          ok = i;
          break;
        }
      }
    }
    this.values = result.values as R[];
    this.errors = ok < items.length ? errors : undefined;
    this.ok = ok;
  }
}

export class BatchWindow<T, R> {
  /** Items waiting for room; a driver pushes here (and applies its own bound or overflow policy). */
  readonly input = new Queue<T>();
  readonly #pool: Pool;
  readonly #fn: Task;
  readonly #options: WindowOptions;
  readonly #runOptions: RunBatchOptions | undefined;
  readonly #onSettle: () => void;
  /** Batches started and not settled, in no particular order (removed by swapping the last one in). */
  readonly #live: Batch<T, R>[] = [];
  /**
   * Settled batches not yet taken. Ordered, the reorder buffer: a ring holding batch n at
   * `n & (ring.length - 1)`, for n from #nextTake up to #nextBatch. Unordered: in the order they settled.
   */
  #ring: (Batch<T, R> | undefined)[] = new Array<Batch<T, R> | undefined>(RING).fill(undefined);
  readonly #settled = new Queue<Batch<T, R>>();
  #held = 0;
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
    return this.#live.length;
  }

  /** Settled outcomes waiting to be taken. */
  get held(): number {
    return this.#held;
  }

  /** Nothing waits, runs or is held. */
  get idle(): boolean {
    return this.input.length === 0 && this.#live.length === 0 && this.#held === 0;
  }

  /** A failure was seen (fail-fast) or the window was closed: no batch starts any more. */
  get stopped(): boolean {
    return this.#failedAt !== Infinity || this.#closed;
  }

  /** Whether a batch may start now. */
  canStart(): boolean {
    if (this.#failedAt !== Infinity || this.#closed) return false;
    return this.#live.length < this.#limit && (!this.#options.ordered || this.#held < this.#limit);
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
    if (this.#options.ordered && this.#nextBatch - this.#nextTake >= this.#ring.length) this.#grow();
    const batch = new Batch<T, R>(this.#nextBatch++, this.#started, items);
    this.#started += items.length;
    this.#addLive(batch);
    let cancel: Cancel;
    try {
      cancel = this.#pool.runBatch<T, R>(this.#fn as Task<(value: T) => R>, items, (error, result) => this.#settle(batch, error, result), this.#runOptions);
    } catch (error) {
      if (batch.live >= 0) this.#removeLive(batch);
      throw error;
    }
    if (batch.live >= 0) batch.cancel = cancel;
  }

  /** The next outcome to hand out (ordered: only the next in input order), or undefined. */
  take(): Outcome<T, R> | undefined {
    if (!this.#options.ordered) {
      if (this.#held === 0) return undefined;
      this.#held--;
      return this.#settled.shift();
    }
    const ring = this.#ring;
    const at = this.#nextTake & (ring.length - 1);
    const batch = ring[at];
    if (batch === undefined) return undefined;
    ring[at] = undefined;
    this.#nextTake++;
    this.#held--;
    return batch;
  }

  /** Ends the window: every running batch is cancelled (in one pass), waiting items and held outcomes are dropped. */
  close(reason: AbortError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelFrom(0, reason);
    this.input.clear();
    this.#ring.fill(undefined);
    this.#settled.clear();
    this.#held = 0;
  }

  #concurrency(): number {
    const { concurrency } = this.#options;
    if (concurrency !== 'auto') return concurrency;
    const { chunksize } = this.#options;
    const hint = this.#pool.batching?.(this.#fn, chunksize === 'auto' ? undefined : chunksize);
    return hint?.concurrency ?? this.#pool.maxWorkers;
  }

  /** Cancels the running batches numbered `from` and up, oldest first. */
  #cancelFrom(from: number, reason: AbortError): void {
    const victims: Batch<T, R>[] = [];
    const live = this.#live;
    // Backwards: what the swap moves into place was already looked at.
    for (let i = live.length - 1; i >= 0; i--) {
      const batch = live[i]!;
      if (batch.number < from) continue;
      this.#removeLive(batch);
      victims.push(batch);
    }
    victims.sort((a, b) => a.number - b.number);
    for (const batch of victims) {
      const { cancel } = batch;
      batch.cancel = undefined;
      cancel?.(reason);
    }
  }

  #addLive(batch: Batch<T, R>): void {
    batch.live = this.#live.length;
    this.#live.push(batch);
  }

  #removeLive(batch: Batch<T, R>): void {
    const last = this.#live.pop()!;
    if (last !== batch) {
      this.#live[batch.live] = last;
      last.live = batch.live;
    }
    batch.live = -1;
  }

  /** Ordered: doubles the ring, keeping every held batch at its number's place. */
  #grow(): void {
    const old = this.#ring;
    const ring = new Array<Batch<T, R> | undefined>(old.length * 2).fill(undefined);
    for (let n = this.#nextTake; n < this.#nextBatch; n++) ring[n & (ring.length - 1)] = old[n & (old.length - 1)];
    this.#ring = ring;
  }

  #settle(batch: Batch<T, R>, error: Error | undefined, result: BatchResult<R> | undefined): void {
    if (batch.live < 0) return; // cancelled: a pool must not call back, but be safe
    this.#removeLive(batch);
    batch.settle(error, result);
    if (this.#options.failFast && this.#options.ordered && batch.ok < batch.items.length && batch.number < this.#failedAt) {
      this.#failedAt = batch.number;
      const failure = failureOf(batch);
      this.#cancelFrom(batch.number + 1, new AbortError(`${this.#options.label}: an earlier item failed`, { cause: failure }));
      const ring = this.#ring;
      for (let n = batch.number + 1; n < this.#nextBatch; n++) {
        const at = n & (ring.length - 1);
        if (ring[at] === undefined) continue;
        ring[at] = undefined;
        this.#held--;
      }
      this.input.clear();
    }
    if (this.#options.ordered) this.#ring[batch.number & (this.#ring.length - 1)] = batch;
    else this.#settled.push(batch);
    this.#held++;
    if (this.#options.concurrency === 'auto') this.#limit = this.#concurrency();
    this.#onSettle();
  }
}
