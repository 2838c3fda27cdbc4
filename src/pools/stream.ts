/**
 * Streaming tasks, pool side: a task that is an async generator function (or a generator function,
 * or returns an (async) iterable) sends its values back as it produces them.
 *
 *     consumer ──request(n)──► StreamChannel ──Stream (credit) · Pull (credit)──► worker/stream.js ──it.next()──► the task
 *     consumer ◄──sink.next──  (on its Job)  ◄──Yield [v, v, …] (never past the credit)───────┘
 *     consumer ◄──sink.end───                ◄──Ok · Err (its end, after every Yield) ────────┘
 *     cancel() ──────────────► Job: Closing  ──Close──► it.return(): the task's finally runs ──► Ok ──► the worker serves on
 *
 * **Credits.** The consumer grants values, the worker spends them: it calls the iterator's `next()`
 * only while it holds credit, and otherwise waits for a Pull. So a worker never runs further ahead
 * of its consumer than the credit granted (`buffersize`), and a slow consumer slows the task. A
 * stream waiting for credit neither counts against its `timeout` (the clock pauses) nor keeps the
 * process alive (its worker is unref'd: no consumer can ever come back for values it left there).
 *
 * **Framing.** The worker batches the values that come fast into one Yield (see worker/stream.js);
 * the pool grants credit back half a window at a time, so a fast stream costs a Pull per
 * `buffersize / 2` values. A stream holds its worker alone: nothing is pipelined behind it
 * (WorkerPool's #pick), since a consumer may wait on other tasks before it pulls again.
 *
 * `WorkerPool` makes the Job's transitions; this file holds the channel, the consumer's iterator
 * (`pool.stream`) and its option checks.
 */

import { AbortError } from '../errors.ts';
import { Deadline } from './Deadline.ts';
import { JobPhase, type Job, type Settle } from './Job.ts';
import { checkSubmitOptions, expectInteger } from './options.ts';
import { PullIterator } from './PullIterator.ts';
import { Queue } from './Queue.ts';
import type { Cancel, Pool, StreamControl, StreamFn, StreamOptions, StreamSink, StreamValue, Task } from './Pool.ts';
import { Op, type ToWorker, type YieldMsg } from './protocol.ts';
import { describe } from './task.ts';
import { restoreBuffers } from './worker/buffers.js';
import type { WorkerSlot } from './WorkerSlot.ts';

/** `buffersize` of `pool.stream` and `flatMapOnPool` when none is given: values a task may yield ahead of its consumer. */
export const DEFAULT_STREAM_BUFFER = 2048;

/**
 * A FIFO of values that arrive in batches: a batch costs one slot, not one per value. Taken values
 * are cleared from their batch (the batch is the buffer's once pushed), so the consumer alone
 * decides how long a value it was handed lives.
 */
export class ValueBuffer<R> {
  readonly #batches = new Queue<R[]>();
  /** The batch values are taken from, out of #batches; undefined between batches. */
  #head: R[] | undefined;
  #offset = 0;
  /** Values held. */
  length = 0;

  push(values: readonly R[]): void {
    if (values.length === 0) return;
    this.#batches.push(values as R[]);
    this.length += values.length;
  }

  /** Removes and returns the oldest value; the buffer must not be empty. */
  shift(): R {
    const batch = (this.#head ??= this.#batches.shift());
    const value = batch[this.#offset]!;
    batch[this.#offset++] = undefined as R;
    this.length--;
    if (this.#offset === batch.length) {
      this.#head = undefined;
      this.#offset = 0;
    }
    return value;
  }

  clear(): void {
    this.#batches.clear();
    this.#head = undefined;
    this.#offset = this.length = 0;
  }
}

/** A running limit that only counts while it runs: paused while its stream waits for credits. */
class StreamClock {
  #left: number;
  #since = 0;
  #timer: Deadline | null = null;
  #cleared = false;
  readonly #onExpire: () => void;

  constructor(ms: number, onExpire: () => void, paused: boolean) {
    this.#left = ms;
    this.#onExpire = onExpire;
    if (!paused) this.resume();
  }

  pause(): void {
    if (!this.#timer) return;
    this.#timer.clear();
    this.#timer = null;
    this.#left -= performance.now() - this.#since;
  }

  resume(): void {
    if (this.#timer || this.#cleared) return;
    this.#since = performance.now();
    this.#timer = new Deadline(Math.max(0, this.#left), this.#onExpire);
  }

  clear(): void {
    this.#cleared = true;
    this.#timer?.clear();
    this.#timer = null;
  }
}

/**
 * The pool side of one streaming job: the credits granted and the values received, the consumer's
 * sink, and the pause of its clock and of its worker's ref while it waits for credits.
 */
export class StreamChannel {
  #job: Job | undefined;
  readonly #sink: StreamSink<unknown>;
  readonly #post: (slot: WorkerSlot, message: ToWorker) => void;
  /** Values the consumer allowed, in all. */
  #granted = 0;
  /** Values received from the worker, in all. */
  #received = 0;
  /** `open`: values go to the sink; `closing`: its consumer left, the worker is stopping it; `ended`. */
  #state: 'open' | 'closing' | 'ended' = 'open';
  /** The worker has spent every credit: it waits for the consumer. */
  #waiting = false;
  #clock: StreamClock | null = null;
  #closed: Promise<Error | undefined> | undefined;
  #resolveClosed: ((error: Error | undefined) => void) | undefined;

  constructor(sink: StreamSink<unknown>, post: (slot: WorkerSlot, message: ToWorker) => void) {
    this.#sink = sink;
    this.#post = post;
  }

  /** Called once, by WorkerPool, with the job that carries it. */
  attach(job: Job): void {
    this.#job = job;
  }

  /** What a Stream message grants: allowed and not yet received (after a requeue, what is still owed). */
  get credit(): number {
    return this.#granted - this.#received;
  }

  /** The consumer allows `n` more values. A job still queued takes them in its Stream message. */
  request(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new TypeError(`Expected \`request\` to be called with an integer from 1 and up, got ${describe(n)}`);
    if (this.#state !== 'open') return;
    this.#granted += n;
    const job = this.#job!;
    if (job.phase !== JobPhase.Sent || !job.slot) return;
    this.#post(job.slot, [Op.Pull, job.id, n]);
    if (this.#waiting) {
      this.#waiting = false;
      this.#clock?.resume();
      job.slot.transport.ref();
    }
  }

  /** WorkerPool: values arrived (a Yield). */
  receive(values: unknown[]): void {
    this.#received += values.length;
    if (this.#state !== 'open') return;
    if (this.#received >= this.#granted && !this.#waiting) {
      // The worker waits for this consumer now: its time is not the task's, and if nothing else
      // keeps the process alive, nobody can ever pull again.
      this.#waiting = true;
      this.#clock?.pause();
      this.#job!.slot?.transport.unref();
    }
    this.#sink.next(values);
  }

  /** WorkerPool: the stream's running limit, armed when it reaches a ready worker. */
  deadline(ms: number, onExpire: () => void): StreamClock {
    this.#clock = new StreamClock(ms, onExpire, this.#waiting);
    return this.#clock;
  }

  /** The job's Settle: the stream's end (Ok, Err, or a pool error), or the end of its close. */
  readonly settle: Settle = (error) => {
    this.#clock = null;
    const state = this.#state;
    this.#state = 'ended';
    if (state === 'open') this.#sink.end(error);
    // Closing: the consumer asked for this end; only an error of the task's own return() is news.
    else if (state === 'closing') this.#resolveClosed!(error instanceof AbortError ? undefined : error);
  };

  /** The consumer leaves: `cancel` is the job's (WorkerPool's #enqueue). Resolves once the task has stopped. */
  close(cancel: Cancel, reason: unknown): Promise<Error | undefined> {
    if (this.#state === 'ended') return this.#closed ?? Promise.resolve(undefined);
    if (this.#state === 'closing') return this.#closed!;
    this.#state = 'closing';
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    cancel(reason);
    const job = this.#job!;
    if (job.phase === JobPhase.Done) {
      // Queued, or taken back before it started: settled without a call back.
      this.#state = 'ended';
      this.#resolveClosed!(undefined);
    } else if (job.phase === JobPhase.Closing) {
      job.slot?.transport.ref(); // its answer is awaited, even if it was waiting for credits
    }
    return this.#closed;
  }
}

/** WorkerPool: a Yield from `slot`, for its stream job (dropped if the job is closing, or its worker was replaced meanwhile). */
export function receive(slot: WorkerSlot, message: YieldMsg): void {
  const job = slot.inflight[slot.indexOf(message[1])];
  if (job?.phase !== JobPhase.Sent || !job.stream) return;
  restoreBuffers(message[2], message[3]);
  job.stream.receive(message[2]);
}

/**
 * `runStream` for WorkerPool: the channel and its control around `enqueue` (which makes the Job).
 * What `enqueue` throws (a bad task or arguments, a shut-down pool) reaches `sink.end` in a
 * microtask, never synchronously, and not at all once cancelled, as `runBatch` reports it.
 */
export function openStream<R>(
  sink: StreamSink<R>,
  post: (slot: WorkerSlot, message: ToWorker) => void,
  enqueue: (channel: StreamChannel) => Cancel,
): StreamControl {
  const channel = new StreamChannel(sink as StreamSink<unknown>, post);
  let cancel: Cancel;
  try {
    cancel = enqueue(channel);
  } catch (error) {
    let cancelled = false;
    queueMicrotask(() => cancelled || sink.end(error as Error));
    return {
      request: () => {},
      cancel: () => {
        cancelled = true;
        return Promise.resolve(undefined);
      },
    };
  }
  return {
    request: (n) => channel.request(n),
    cancel: (reason) => channel.close(cancel, reason),
  };
}

/** `pool.stream`'s options, checked, with defaults. */
interface CheckedStreamOptions {
  readonly signal: AbortSignal | undefined;
  readonly buffersize: number;
  readonly run: { timeout?: number; transfer?: import('node:worker_threads').TransferListItem[] };
}

const STREAM_OPTIONS = ['signal', 'timeout', 'transfer', 'buffersize'];

function checkStreamOptions(options: unknown): CheckedStreamOptions {
  if (options === undefined) return { signal: undefined, buffersize: DEFAULT_STREAM_BUFFER, run: {} };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected the options of stream() to be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!STREAM_OPTIONS.includes(key)) throw new TypeError(`Unknown stream() option \`${key}\`; known options: ${STREAM_OPTIONS.join(', ')}`);
  }
  const { buffersize } = options as StreamOptions;
  const { signal, timeout, transfer } = checkSubmitOptions(options as StreamOptions);
  const run: CheckedStreamOptions['run'] = {};
  if (timeout !== undefined) run.timeout = timeout;
  if (transfer !== undefined) run.transfer = transfer;
  return { signal, buffersize: buffersize === undefined ? DEFAULT_STREAM_BUFFER : expectInteger('buffersize', buffersize, 1), run };
}

/**
 * `pool.stream` for any {@link Pool} with `runStream`: runs `fn(...args)` on one worker and yields
 * its values as the task produces them, at most `buffersize` ahead of the consumer. Lazy: nothing
 * starts before the first `next()`. Bad arguments throw at once.
 */
export function streamPool<F extends StreamFn>(pool: Pool, fn: Task<F>, args: Parameters<F>, options?: StreamOptions): AsyncGenerator<StreamValue<F>, void, undefined> {
  if (typeof pool.runStream !== 'function') throw new TypeError(`Expected a pool with runStream (a ThreadPool, ProcessPool or VirtualPool), got ${describe(pool)}`);
  if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array of arguments, got ${describe(args)}`);
  const checked = checkStreamOptions(options);
  const runStream = pool.runStream.bind(pool);
  return new StreamIterator<StreamValue<F>>((sink) => runStream<StreamValue<F>>(fn as Task<StreamFn<any[], StreamValue<F>>>, args, sink, checked.run), checked);
}

/** The iterator `pool.stream` returns (see PullIterator). */
class StreamIterator<R> extends PullIterator<R> {
  readonly #open: (sink: StreamSink<R>) => StreamControl;
  readonly #signal: AbortSignal | undefined;
  readonly #window: number;
  #control: StreamControl | undefined;
  readonly #buffer = new ValueBuffer<R>();
  /** Credits granted and values handed out, in all: the worker is at most `granted − taken` ahead. */
  #granted = 0;
  #taken = 0;
  /** How the stream ended (or the abort), once known: handed out after the values before it. */
  #end: { error: Error | undefined } | undefined;
  /** Nothing more is handed out: the end was, or the consumer left. */
  #done = false;
  #wake: (() => void) | null = null;
  #onAbort: (() => void) | undefined;

  constructor(open: (sink: StreamSink<R>) => StreamControl, options: CheckedStreamOptions) {
    super();
    this.#open = open;
    this.#signal = options.signal;
    this.#window = options.buffersize;
  }

  /** Leaving early: the task's iterator is closed in its worker (its `finally` runs) before this resolves. */
  async return(): Promise<IteratorResult<R, void>> {
    if (!this.#done) {
      this.#done = true;
      this.#buffer.clear();
      this.#unlisten();
      this.#wakeUp();
      if (this.#control && !this.#end) {
        const error = await this.#control.cancel(new AbortError('pool.stream: the iteration ended early'));
        if (error) throw error; // the task's own return() (a finally block) threw it
      }
    }
    return { value: undefined, done: true };
  }

  /** A value ready now, the end, or undefined (wait). Throws the stream's error. */
  protected ready(): IteratorResult<R, void> | undefined {
    if (this.#done) return { value: undefined, done: true };
    if (!this.#control && !this.#end) this.#start();
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift();
      this.#taken++;
      this.#refill();
      return { value, done: false };
    }
    if (this.#end) {
      this.#done = true;
      if (this.#end.error) throw this.#end.error;
      return { value: undefined, done: true };
    }
    return undefined;
  }

  protected async wait(): Promise<IteratorResult<R, void>> {
    for (;;) {
      const ready = this.ready();
      if (ready !== undefined) return ready;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #start(): void {
    const signal = this.#signal;
    if (signal?.aborted) {
      this.#end = { error: new AbortError('The stream was aborted before it started', { cause: signal.reason }) };
      return;
    }
    this.#control = this.#open({
      next: (values) => {
        this.#buffer.push(values);
        this.#wakeUp();
      },
      end: (error) => {
        this.#end = { error };
        this.#unlisten();
        this.#wakeUp();
      },
    });
    if (signal) {
      this.#onAbort = () => {
        this.#onAbort = undefined;
        // As for `submit` and `map`: the abort is thrown at once, values not yet taken are dropped.
        this.#end = { error: new AbortError('The stream was aborted', { cause: signal.reason }) };
        this.#buffer.clear();
        void this.#control!.cancel(signal.reason);
        this.#wakeUp();
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#granted = this.#window;
    this.#control.request(this.#window);
  }

  /** Keeps the worker's credit at the window: granted back half a window at a time. */
  #refill(): void {
    if (this.#end) return;
    const ahead = this.#granted - this.#taken;
    if (ahead > this.#window >> 1) return;
    const n = this.#window - ahead;
    this.#granted += n;
    this.#control!.request(n);
  }

  #unlisten(): void {
    if (this.#onAbort) this.#signal!.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
