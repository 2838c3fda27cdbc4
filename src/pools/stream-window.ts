/**
 * The ordered window over streams: what `flatMapOnPool` runs on (./window.ts is its counterpart
 * for batches, under `mapOnPool`).
 *
 *     input (waiting values) ──fill()──► streams in flight ──values──► per-stream buffers ──drain()──► consumer
 *         Queue<T>             ≤ concurrency, one     pool.runStream   ordered: later        stream 1's values,
 *                              task per value                          streams' held         then stream 2's, …
 *
 * **Bounds.** At most `concurrency` streams run (submitted and not ended). Each stream is granted
 * `buffersize` credits, and granted more only as its values are handed out: ordered, a later
 * stream's values wait in its buffer, and once it holds `buffersize` of them its worker waits too.
 * Streams that ended but wait for an earlier one count in a reorder bound of `concurrency` (no
 * stream starts while it is full), so at most `(2 × concurrency − 1) × buffersize` values are
 * ever held. Unordered, every stream's values are handed out as they arrive.
 *
 * **Failures.** Ordered, a stream's error is handed out after every value of the streams before it
 * and its own values before the error; later streams are cancelled as soon as it is known and no
 * new stream starts. Unordered, the error is handed out as soon as it arrives.
 */

import { AbortError } from '../errors.ts';
import type { Pool, StreamControl, StreamFn, Task } from './Pool.ts';
import { Queue } from './Queue.ts';
import { ValueBuffer } from './stream.ts';

/** How a stream window runs. */
export interface StreamWindowOptions {
  /** Hand values out stream by stream in input order (`true`), or as they arrive. */
  readonly ordered: boolean;
  /** Streams running at once, at most (and the reorder bound); `'auto'`: the pool's `maxWorkers`. */
  readonly concurrency: number | 'auto';
  /** Credits per stream: values it may produce ahead of what was handed out. */
  readonly buffersize: number;
  /** Who runs the window, for cancellation reasons. */
  readonly label: string;
}

interface Stream<R> {
  readonly index: number;
  control: StreamControl | undefined;
  readonly buffer: ValueBuffer<R>;
  ended: boolean;
  error: Error | undefined;
  /** Credits granted and values handed out, in all. */
  granted: number;
  taken: number;
}

export class StreamWindow<T, R> {
  /** Values waiting for room; the driver pushes here (and applies its own bound or overflow policy). */
  readonly input = new Queue<T>();
  readonly #pool: Pool & Required<Pick<Pool, 'runStream'>>;
  readonly #fn: Task<StreamFn<[T], R>>;
  readonly #options: StreamWindowOptions;
  readonly #limit: number;
  readonly #onEvent: () => void;
  /** Streams started and not yet handed out to the end, in input order (a Map iterates in insertion order). */
  readonly #streams = new Map<number, Stream<R>>();
  #running = 0;
  #next = 0;
  /** Ordered: the stream handed out now. */
  #head = 0;
  /** The earliest stream known to have failed (ordered); nothing after it starts or is handed out. */
  #failedAt = Infinity;
  #closed = false;

  /** @param onEvent Called (never synchronously from `start`) when values arrive or a stream ends: the driver drains and fills again. */
  constructor(pool: Pool & Required<Pick<Pool, 'runStream'>>, fn: Task<StreamFn<[T], R>>, options: StreamWindowOptions, onEvent: () => void) {
    this.#pool = pool;
    this.#fn = fn;
    this.#options = options;
    this.#limit = options.concurrency === 'auto' ? pool.maxWorkers : options.concurrency;
    this.#onEvent = onEvent;
  }

  /** Streams started and not ended. */
  get running(): number {
    return this.#running;
  }

  /** Nothing waits, runs or is held. */
  get idle(): boolean {
    return this.input.length === 0 && this.#streams.size === 0;
  }

  /** A failure was seen (ordered) or the window was closed: no stream starts any more. */
  get stopped(): boolean {
    return this.#failedAt !== Infinity || this.#closed;
  }

  /** Whether a stream may start now. */
  canStart(): boolean {
    if (this.stopped) return false;
    return this.#running < this.#limit && (!this.#options.ordered || this.#streams.size - this.#running < this.#limit);
  }

  /** Starts streams from the input while there is room. Throws what the pool's `runStream` throws. */
  fill(): void {
    while (this.input.length > 0 && this.canStart()) this.start(this.input.shift());
  }

  /** Starts the stream of `value` now. */
  start(value: T): void {
    const stream: Stream<R> = {
      index: this.#next++,
      control: undefined,
      buffer: new ValueBuffer<R>(),
      ended: false,
      error: undefined,
      granted: this.#options.buffersize,
      taken: 0,
    };
    this.#streams.set(stream.index, stream);
    this.#running++;
    try {
      stream.control = this.#pool.runStream<R>(this.#fn, [value], {
        next: (values) => {
          stream.buffer.push(values);
          this.#onEvent();
        },
        end: (error) => this.#ended(stream, error),
      });
    } catch (error) {
      this.#streams.delete(stream.index);
      this.#running--;
      throw error;
    }
    stream.control.request(this.#options.buffersize);
  }

  /**
   * Hands out what can be handed out now, in order: values through `emit` (which returns false
   * once the consumer is gone), credits granted back as they go. Returns the failure to report,
   * if one is due now: it comes after every value before it.
   */
  drain(emit: (value: R) => boolean): Error | undefined {
    if (this.#options.ordered) {
      for (let stream = this.#streams.get(this.#head); stream; stream = this.#streams.get(this.#head)) {
        if (!this.#handOut(stream, emit)) return undefined;
        if (!stream.ended) return undefined;
        if (stream.error) return stream.error;
        this.#streams.delete(this.#head++);
      }
      return undefined;
    }
    for (const stream of this.#streams.values()) {
      if (!this.#handOut(stream, emit)) return undefined;
      if (!stream.ended) continue;
      if (stream.error) return stream.error;
      this.#streams.delete(stream.index);
    }
    return undefined;
  }

  /** Ends the window: every stream in flight is cancelled (its iterator returned in its worker), waiting values and held ones dropped. */
  close(reason: AbortError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelFrom(0, reason);
    this.#streams.clear();
    this.input.clear();
  }

  /** False if the consumer went away while values were handed out. */
  #handOut(stream: Stream<R>, emit: (value: R) => boolean): boolean {
    const { buffer } = stream;
    while (buffer.length > 0) {
      stream.taken++;
      if (!emit(buffer.shift()) || this.#closed) return false;
    }
    const window = this.#options.buffersize;
    const ahead = stream.granted - stream.taken;
    if (!stream.ended && ahead <= window >> 1) {
      stream.granted += window - ahead;
      stream.control!.request(window - ahead);
    }
    return true;
  }

  #ended(stream: Stream<R>, error: Error | undefined): void {
    stream.ended = true;
    stream.error = error;
    this.#running--;
    if (error && this.#options.ordered && stream.index < this.#failedAt) {
      this.#failedAt = stream.index;
      this.#cancelFrom(stream.index + 1, new AbortError(`${this.#options.label}: an earlier stream failed`, { cause: error }));
      this.input.clear();
    }
    this.#onEvent();
  }

  /** Latest first, so a pool never starts a queued stream in the slot an earlier one frees during the same burst. */
  #cancelFrom(from: number, reason: AbortError): void {
    const doomed = [...this.#streams.values()].filter((stream) => stream.index >= from);
    for (const stream of doomed.reverse()) {
      this.#streams.delete(stream.index);
      if (stream.ended) continue;
      this.#running--;
      void stream.control?.cancel(reason);
    }
  }
}
