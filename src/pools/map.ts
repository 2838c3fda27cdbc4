/**
 * The pull side of the ordered window: `pool.map` for every pool, and what `mapSettled` runs on.
 *
 * A reader pulls the (async) iterable into the window's input, at most `buffersize` items ahead of
 * the consumer, and starts batches from it: a full batch at once, a partial one as soon as the
 * source has nothing more to give in this turn of the event loop (a live feed's record goes out
 * the moment it is read). The consumer awaits outcomes in order. Reading starts when `map` is
 * called, as in CPython 3.14, so `shutdown()` right after `map()` still computes the first items.
 */

import { AbortError, TaskTimeoutError } from '../errors.ts';
import { Deadline } from './Deadline.ts';
import { expectDuration, expectInteger } from './options.ts';
import type { MapOptions, Pool, Task } from './Pool.ts';
import { PullIterator } from './PullIterator.ts';
import { describe } from './task.ts';
import { BatchWindow, errorAt, type Outcome } from './window.ts';

function noop(): void {}

/** Options of the pull driver; every default filled in. */
export interface PullOptions {
  readonly ordered: boolean;
  readonly chunksize: number | 'auto';
  /** Items read ahead of the consumer, at most; undefined: {@link defaultBuffersize}. */
  readonly buffersize: number | undefined;
  readonly failFast: boolean;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly totalTimeout: number | undefined;
  /** `map()`, `mapSettled()`: names the caller in errors. */
  readonly label: string;
}

/**
 * The read-ahead of `pool.map` and `mapSettled` when none is given: enough to keep every worker's
 * pipeline full, `maxWorkers × max(256, 4 × chunksize)`, where chunksize is the current one (with
 * `'auto'`, the pool's current preference, so the bound grows with the batches).
 */
export function defaultBuffersize(pool: Pool, chunksize: number): number {
  return pool.maxWorkers * Math.max(256, 4 * chunksize);
}

/** Checks `iterable` and the options shared by `pool.map` and `mapSettled`. */
export function checkPullArguments(
  iterable: unknown,
  options: { chunksize?: unknown; buffersize?: unknown },
): { chunksize: number | 'auto'; buffersize: number | undefined } {
  if (
    iterable == null ||
    (typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
      typeof (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new TypeError(`Expected \`iterable\` to be an iterable or async iterable, got ${describe(iterable)}`);
  }
  const chunksize = options.chunksize === undefined ? 'auto' : expectChunksize(options.chunksize);
  const buffersize =
    options.buffersize === undefined ? undefined : expectInteger('buffersize', options.buffersize, chunksize === 'auto' ? 1 : chunksize);
  return { chunksize, buffersize };
}

/** `chunksize`: an integer from 1 and up, or `'auto'`. */
export function expectChunksize(value: unknown): number | 'auto' {
  if (value === 'auto') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new TypeError(`Expected \`chunksize\` to be an integer from 1 and up, or 'auto', got ${describe(value)}`);
}

/** Checks a `signal` option. */
export function expectSignal(signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
  return signal;
}

export class PullWindow<T, R> {
  readonly #window: BatchWindow<T, R>;
  readonly #pool: Pool;
  readonly #options: PullOptions;
  readonly #iterator: Iterator<T> | AsyncIterator<T>;
  readonly #async: boolean;
  /** Items read and not yet handed to the consumer. */
  #ahead = 0;
  #reading = false;
  /** The reader awaits the source's `next()`. */
  #inNext = false;
  #sourceDone = false;
  #sourceError: { error: unknown } | undefined;
  /** Why the run ended early (abort, totalTimeout, a pool that throws): the consumer's next read throws it. */
  #fatal: { error: unknown } | undefined;
  #flushScheduled = false;
  #closed = false;
  /** The read-ahead bound the reader last used (it follows the pool's preferences with 'auto'). */
  #bound = 0;
  #wake: (() => void) | null = null;
  readonly #deadline: Deadline | undefined;
  readonly #onAbort: (() => void) | undefined;

  constructor(pool: Pool, fn: Task, source: Iterable<T> | AsyncIterable<T>, options: PullOptions) {
    this.#pool = pool;
    this.#options = options;
    this.#window = new BatchWindow<T, R>(
      pool,
      fn,
      { ordered: options.ordered, concurrency: Infinity, chunksize: options.chunksize, failFast: options.failFast, timeout: options.timeout, label: options.label },
      () => this.#wakeUp(),
    );
    this.#async = typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
    this.#iterator = this.#async ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
    const { signal, totalTimeout, label } = options;
    if (signal?.aborted) {
      this.#end(new AbortError(`${label} was aborted`, { cause: signal.reason }));
      return;
    }
    if (signal) {
      this.#onAbort = () => this.#end(new AbortError(`${label} was aborted`, { cause: signal.reason }));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    if (totalTimeout !== undefined && totalTimeout !== Infinity) {
      this.#deadline = new Deadline(totalTimeout, () =>
        this.#end(new TaskTimeoutError(`${label} did not finish within its totalTimeout of ${totalTimeout} ms; what was pending was cancelled`, totalTimeout)),
      );
    }
    void this.#read();
  }

  /** The next outcome: in input order (ordered) or as batches settle. Undefined at the end; throws a source error, an abort or a timeout. */
  async next(): Promise<Outcome<T, R> | undefined> {
    for (;;) {
      if (this.#fatal) throw this.#fatal.error;
      const outcome = this.#window.take();
      if (outcome !== undefined) return outcome;
      if (this.#sourceDone && !this.#reading && this.#window.idle) {
        if (this.#sourceError) throw this.#sourceError.error;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** The consumer took `n` items: room to read further. */
  consumed(n: number): void {
    this.#ahead -= n;
    // Read on once at most half the bound is ahead, so refills travel many batches to a frame.
    if (this.#ahead <= this.#bound >> 1 && !this.#reading && !this.#sourceDone && !this.#closed) void this.#read();
  }

  /** Throws what ended the run early (abort, totalTimeout), if anything did. */
  check(): void {
    if (this.#fatal) throw this.#fatal.error;
  }

  /** Stops: cancels what is pending (in one pass) and closes the source. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stop(new AbortError(`${this.#options.label}: the iteration ended early`));
    // Closing the source while its `next()` is pending would wait for that item, which a live
    // feed may never send: close it without waiting then.
    if (this.#inNext) void Promise.resolve(this.#iterator.return?.()).catch(noop);
    else if (this.#sourceError === undefined) await this.#iterator.return?.();
  }

  #limit(): number {
    return this.#options.buffersize ?? defaultBuffersize(this.#pool, this.#window.chunksize());
  }

  /** The batch size the reader fills to: never more than it may read ahead. */
  #chunk(): number {
    return Math.min(this.#window.chunksize(), this.#limit());
  }

  async #read(): Promise<void> {
    this.#reading = true;
    let limit = this.#limit();
    let chunk = Math.min(this.#window.chunksize(), limit);
    try {
      while (!this.#closed && !this.#sourceDone && this.#ahead < limit) {
        let step: IteratorResult<T>;
        if (this.#async) {
          this.#inNext = true;
          step = await (this.#iterator as AsyncIterator<T>).next();
          this.#inNext = false;
          if (this.#closed) return;
        } else {
          // No await for a sync iterator: a microtask per item is a cost at a million items.
          step = (this.#iterator as Iterator<T>).next();
        }
        if (step.done) {
          this.#sourceDone = true;
          break;
        }
        this.#window.input.push(step.value);
        this.#ahead++;
        if (this.#window.input.length >= chunk) {
          this.#fill();
          // The pool's preferences move as it measures the task ('auto').
          limit = this.#limit();
          chunk = Math.min(this.#window.chunksize(), limit);
        } else if (this.#async) {
          this.#flushSoon();
        }
      }
    } catch (error) {
      this.#sourceError = { error };
      this.#sourceDone = true;
    } finally {
      this.#inNext = false;
      this.#reading = false;
      this.#bound = limit;
    }
    if (this.#closed) return;
    // The source ended, failed or the bound is reached: what was read goes out now.
    this.#fill();
    this.#wakeUp();
  }

  /** A partial batch goes out once the source has nothing more to give in this turn of the event loop. */
  #flushSoon(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#fill();
    });
  }

  #fill(): void {
    if (this.#closed) return;
    try {
      const chunk = this.#chunk();
      while (this.#window.input.length > 0) this.#window.start(this.#window.input.take(chunk));
    } catch (error) {
      // The pool refused the batch outright (a foreign Pool that throws): the run cannot go on.
      this.#end(error);
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Ends the run with `error` for the consumer (abort, totalTimeout): pending work is cancelled at once. */
  #end(error: unknown): void {
    if (this.#closed) return;
    this.#fatal = { error };
    this.#stop(error instanceof AbortError ? error : new AbortError(`${this.#options.label} ended early`, { cause: error }));
    // The source is not closed here: the consumer's close() does it (or nobody iterates at all).
  }

  #stop(reason: AbortError): void {
    this.#closed = true;
    this.#deadline?.clear();
    if (this.#onAbort) this.#options.signal!.removeEventListener('abort', this.#onAbort);
    this.#window.close(reason);
    this.#wakeUp();
  }
}

/**
 * `pool.map` for any {@link Pool}: runs `fn(item)` for each item and yields the results in input
 * order, reading at most `buffersize` items ahead. An item's error is thrown when iteration
 * reaches it (after every earlier result); leaving the loop early cancels what is pending.
 * Bad arguments throw at once.
 */
export function mapPool<F extends (value: any) => unknown>(
  pool: Pool,
  fn: Task<F>,
  iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
  options: MapOptions = {},
): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  const { chunksize, buffersize } = checkPullArguments(iterable, options);
  const signal = expectSignal(options.signal);
  const timeout = options.timeout === undefined ? undefined : expectDuration('timeout', options.timeout);
  const totalTimeout = options.totalTimeout === undefined ? undefined : expectDuration('totalTimeout', options.totalTimeout);
  const pull = new PullWindow<Parameters<F>[0], Awaited<ReturnType<F>>>(pool, fn as Task, iterable, {
    ordered: true,
    chunksize,
    buffersize,
    failFast: true,
    signal,
    timeout,
    totalTimeout,
    label: 'map()',
  });
  return new ResultIterator(pull);
}

/** The iterator `map` returns (see PullIterator). */
class ResultIterator<R> extends PullIterator<R> {
  readonly #pull: PullWindow<unknown, R>;
  #outcome: Outcome<unknown, R> | undefined;
  #i = 0;
  #done = false;

  constructor(pull: PullWindow<unknown, R>) {
    super();
    this.#pull = pull;
  }

  async return(): Promise<IteratorResult<R, void>> {
    this.#done = true;
    this.#outcome = undefined;
    await this.#pull.close();
    return { value: undefined, done: true };
  }

  /** A result that is ready now, `done` at the end, or undefined (wait for the next outcome). Throws an item's error. */
  protected ready(): IteratorResult<R, void> | undefined {
    if (this.#done) return { value: undefined, done: true };
    this.#pull.check();
    const outcome = this.#outcome;
    if (outcome === undefined) return undefined;
    if (this.#i < outcome.ok) {
      const value = outcome.values[this.#i]!;
      // Not kept once handed out: the consumer decides how long it lives.
      outcome.values[this.#i++] = undefined as R;
      this.#pull.consumed(1);
      return { value, done: false };
    }
    if (this.#i < outcome.items.length) throw errorAt(outcome, this.#i);
    this.#outcome = undefined;
    return undefined;
  }

  protected async wait(): Promise<IteratorResult<R, void>> {
    try {
      for (;;) {
        const ready = this.ready();
        if (ready !== undefined) return ready;
        const outcome = await this.#pull.next();
        if (outcome === undefined) {
          this.#done = true;
          return { value: undefined, done: true };
        }
        this.#outcome = outcome;
        this.#i = 0;
      }
    } catch (error) {
      return this.failed(error);
    }
  }

  /** An item's error: the window is closed, then the error is thrown. */
  protected override async failed(error: unknown): Promise<never> {
    await this.return();
    throw error;
  }
}
