import { inspect } from 'node:util';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { TaskError } from '../errors.ts';
import type { BatchCallback, BatchResult, Cancel, Pool, StreamControl, StreamFn, StreamSink, Task } from '../pools/Pool.ts';
import { describe, isTaskRef } from '../pools/task.ts';

/** Options of {@link VirtualPool}. */
export interface VirtualPoolOptions<T = any> {
  /** Batches running at once; the rest wait in a FIFO queue. Also the operators' default `concurrency`. */
  readonly maxWorkers: number;
  /**
   * How long a task takes, in frames (virtual milliseconds) of the scheduler. A batch takes the sum
   * of its items' durations. A stream (`runStream`, `flatMapOnPool`) takes `duration(args[0])`
   * frames per value it yields. Called when the batch or stream is submitted; must return a finite
   * number ≥ 0.
   */
  readonly duration: (value: T) => number;
  /**
   * The scheduler whose clock the pool runs on. Inside `testScheduler.run(...)` the default
   * `asyncScheduler` runs in virtual time.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike;
}

/** What happened to one batch or stream, for assertions (frames are the scheduler's `now()`). */
export interface VirtualBatch {
  /** 0, 1, 2, … in submission order. */
  readonly id: number;
  /** `runBatch`'s items, or `runStream`'s arguments. */
  readonly items: readonly unknown[];
  /** A batch (`runBatch`) or a stream (`runStream`). */
  readonly kind: 'batch' | 'stream';
  /** A stream's values handed to its consumer so far (0 for a batch). */
  yielded: number;
  /** Frame it was submitted at. */
  readonly submittedAt: number;
  /** Frame it got a worker, once it has. */
  startedAt: number | undefined;
  /** Frame it finished or was cancelled at, once it has. */
  endedAt: number | undefined;
  state: 'queued' | 'running' | 'done' | 'cancelled';
}

/** A batch or a stream, queued or running. */
interface Job {
  readonly record: VirtualBatch;
  /** It got a slot: its frames start now. */
  readonly start: () => void;
  /** Cancelled while running: stops it (a stream's iterator is returned; what that throws is returned). */
  readonly stop: () => Error | undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * A {@link Pool} in virtual time, for marble tests of `mapOnPool`: each task runs inline on the
 * main thread, completing `duration(value)` frames after it got one of `maxWorkers` slots; the
 * other batches wait in a FIFO queue. Exact to the frame under `testScheduler.run`: with
 * `concurrency: 1`, `mapOnPool(vp, fn)` emits exactly what
 * `concatMap(x => timer(duration(x)).pipe(map(() => fn(x))))` emits.
 *
 * A task runs when its batch completes (not when it starts), each item in its own try/catch: a
 * thrown Error fails that item, a thrown non-Error arrives wrapped in `TaskError` (with `.value`),
 * like on a real pool. A task that returns a Promise cannot be run in virtual time, so that item
 * fails with a TypeError. Only inline functions: a `task(module, name)` reference is refused.
 *
 * A stream (`runStream`, what `flatMapOnPool` runs) holds a slot from its start to its end: the
 * task is called when it gets the slot, and must return a synchronous iterable (a generator
 * function, an array). Each value comes `duration(args[0])` frames after the step that computes it
 * starts, and a step starts only while the consumer has granted credit, as on a real pool (a
 * stream whose consumer holds back waits, on its slot); the end comes with the last value, an
 * error one duration after its step starts. Cancelling a running stream calls its iterator's
 * `return()` at once (its `finally` runs).
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { mapOnPool } from 'rxjs-pools';
 * import { VirtualPool } from 'rxjs-pools/testing';
 *
 * new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
 *   const pool = new VirtualPool({ maxWorkers: 2, duration: () => 3 });
 *   // a arrives at frame 0 and b at 1, each on a free worker for 3 frames: done at 3 and 4.
 *   expectObservable(cold('ab|').pipe(mapOnPool(pool, (x: string) => x.toUpperCase()))).toBe('---A(B|)');
 * });
 * ```
 */
export class VirtualPool implements Pool {
  readonly maxWorkers: number;
  /** Every batch submitted, in order, with its frames: what a test asserts concurrency on. */
  readonly log: readonly VirtualBatch[] = [];
  readonly #duration: (value: unknown) => number;
  readonly #scheduler: SchedulerLike;
  readonly #queue: Job[] = [];
  #running = 0;
  #peakRunning = 0;

  constructor(options: VirtualPoolOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected VirtualPool options to be an object, got ${describe(options)}`);
    }
    const { maxWorkers, duration, scheduler = asyncScheduler } = options;
    if (typeof maxWorkers !== 'number' || !Number.isInteger(maxWorkers) || maxWorkers < 1) {
      throw new TypeError(`Expected \`maxWorkers\` to be an integer from 1 and up, got ${describe(maxWorkers)}`);
    }
    if (typeof duration !== 'function') {
      throw new TypeError(`Expected \`duration\` to be a function from a value to a number of frames, got ${describe(duration)}`);
    }
    if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.schedule !== 'function' || typeof scheduler.now !== 'function') {
      throw new TypeError(`Expected \`scheduler\` to be an RxJS scheduler, got ${describe(scheduler)}`);
    }
    for (const key of Object.keys(options)) {
      if (!['maxWorkers', 'duration', 'scheduler'].includes(key)) {
        throw new TypeError(`Unknown VirtualPool option \`${key}\`; known options: maxWorkers, duration, scheduler`);
      }
    }
    this.maxWorkers = maxWorkers;
    this.#duration = duration;
    this.#scheduler = scheduler;
  }

  /** Batches running now. */
  get running(): number {
    return this.#running;
  }

  /** Batches waiting for a slot now. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The most batches that ever ran at once. */
  get peakRunning(): number {
    return this.#peakRunning;
  }

  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>): Cancel {
    const run = inlineOnly(fn);
    if (!Array.isArray(items)) throw new TypeError(`Expected \`items\` to be an array, got ${describe(items)}`);
    let duration = 0;
    for (const item of items) duration += this.#framesOf(item);
    const record = this.#record('batch', items);
    let action: Subscription | undefined;
    const job: Job = {
      record,
      // One scheduled action per batch, created when it starts: the same place in the scheduler's
      // queue as the `timer(duration)` of the equivalent concatMap/mergeMap, so ties break alike.
      start: () => (action = this.#scheduler.schedule(() => this.#complete(job, run, callback as BatchCallback<unknown>), duration)),
      stop: () => void action?.unsubscribe(),
    };
    this.#submit(job);
    return () => void this.#cancel(job);
  }

  /**
   * `Pool.runStream` in virtual time: `fn(...args)` is called when the stream gets a slot and must
   * return a synchronous iterable; each value takes `duration(args[0])` frames, pulled only within
   * the credits `request` grants.
   */
  runStream<R>(fn: Task<StreamFn<any[], R>>, args: readonly unknown[], sink: StreamSink<R>): StreamControl {
    const call = inlineOnly(fn) as (...args: unknown[]) => unknown;
    if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array of arguments, got ${describe(args)}`);
    const frames = this.#framesOf(args[0]);
    const record = this.#record('stream', args);
    const scheduler = this.#scheduler;
    let iterator: Iterator<unknown> | undefined;
    let action: Subscription | undefined;
    let credit = 0;
    let waiting = false;
    const end = (error: Error | undefined) => {
      if (record.state !== 'running') return;
      record.state = 'done';
      record.endedAt = scheduler.now();
      this.#running--;
      sink.end(error);
      this.#pump();
    };
    /** Computes the next value now (the generator runs to its next yield); it arrives `frames` later. */
    const step = () => {
      if (record.state !== 'running') return;
      if (credit === 0) {
        waiting = true;
        return;
      }
      credit--;
      let result: IteratorResult<unknown>;
      try {
        result = iterator!.next();
      } catch (thrown) {
        action = scheduler.schedule(() => end(taskError(thrown)), frames);
        return;
      }
      if (result.done) {
        action = scheduler.schedule(() => end(undefined), 0);
        return;
      }
      action = scheduler.schedule(() => {
        record.yielded++;
        sink.next([result.value as R]);
        step();
      }, frames);
    };
    const job: Job = {
      record,
      start: () => {
        try {
          iterator = syncIteratorOf(call(...args), args[0]);
        } catch (thrown) {
          action = scheduler.schedule(() => end(taskError(thrown)), frames);
          return;
        }
        step();
      },
      stop: () => {
        action?.unsubscribe();
        try {
          iterator?.return?.();
        } catch (thrown) {
          return taskError(thrown);
        }
        return undefined;
      },
    };
    this.#submit(job);
    return {
      request: (n) => {
        if (!Number.isInteger(n) || n < 1) throw new TypeError(`Expected \`request\` to be called with an integer from 1 and up, got ${describe(n)}`);
        credit += n;
        if (waiting) {
          waiting = false;
          step();
        }
      },
      cancel: () => Promise.resolve(this.#cancel(job)),
    };
  }

  #framesOf(value: unknown): number {
    const frames = this.#duration(value);
    if (typeof frames !== 'number' || !Number.isFinite(frames) || frames < 0) {
      throw new TypeError(`Expected \`duration\` to return a number of frames from 0 and up, got ${describe(frames)} for ${describe(value)}`);
    }
    return frames;
  }

  #record(kind: VirtualBatch['kind'], items: readonly unknown[]): VirtualBatch {
    const record: VirtualBatch = {
      id: this.log.length,
      items: [...items],
      kind,
      yielded: 0,
      submittedAt: this.#scheduler.now(),
      startedAt: undefined,
      endedAt: undefined,
      state: 'queued',
    };
    (this.log as VirtualBatch[]).push(record);
    return record;
  }

  #submit(job: Job): void {
    this.#queue.push(job);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.maxWorkers && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      job.record.state = 'running';
      job.record.startedAt = this.#scheduler.now();
      this.#running++;
      if (this.#running > this.#peakRunning) this.#peakRunning = this.#running;
      job.start();
    }
  }

  #complete(job: Job, fn: (value: unknown) => unknown, callback: BatchCallback<unknown>): void {
    if (job.record.state !== 'running') return;
    job.record.state = 'done';
    job.record.endedAt = this.#scheduler.now();
    this.#running--;
    const { items } = job.record;
    const values: unknown[] = new Array(items.length);
    let errors: (Error | undefined)[] | undefined;
    for (let i = 0; i < items.length; i++) {
      try {
        const value = fn(items[i]);
        if (isThenable(value)) {
          // Mark a rejected promise handled: its failure is reported as this item's error instead.
          Promise.resolve(value).then(undefined, () => {});
          throw new TypeError(
            `A task run by VirtualPool returned a Promise (for ${describe(items[i])}): virtual time cannot wait for it. ` +
              'Use a synchronous function in marble tests; model its time with `duration`',
          );
        }
        values[i] = value;
      } catch (thrown) {
        (errors ??= new Array(items.length))[i] = taskError(thrown);
      }
    }
    const result: BatchResult<unknown> = errors ? { values, errors } : { values };
    callback(undefined, result);
    this.#pump();
  }

  /** Returns what a running stream's `return()` threw. */
  #cancel(job: Job): Error | undefined {
    const { record } = job;
    let error: Error | undefined;
    if (record.state === 'queued') {
      this.#queue.splice(this.#queue.indexOf(job), 1);
    } else if (record.state === 'running') {
      this.#running--;
      error = job.stop();
    } else {
      return undefined; // done or already cancelled: idempotent
    }
    record.state = 'cancelled';
    record.endedAt = this.#scheduler.now();
    this.#pump();
    return error;
  }
}

function inlineOnly(fn: unknown): (...args: unknown[]) => unknown {
  if (typeof fn !== 'function') {
    const what = isTaskRef(fn) ? `a task(module, name) reference (${fn.name} in ${fn.module})` : describe(fn);
    throw new TypeError(
      `VirtualPool runs inline functions only, got ${what}: it runs tasks on the main thread in virtual time and loads no modules. Pass the function itself`,
    );
  }
  return fn as (...args: unknown[]) => unknown;
}

/** A thrown value as a real pool reports it: an Error as is, anything else wrapped in TaskError. */
function taskError(thrown: unknown): Error {
  return thrown instanceof Error
    ? thrown
    : // The same message a real pool gives (src/pools/serialize.ts), so scenarios compare alike.
      new TaskError(`Task threw a non-Error value: ${inspect(thrown, { depth: 2, breakLength: Infinity }).slice(0, 200)}`, thrown);
}

/** The iterator of what a streaming task returned, which virtual time can run: a synchronous iterable. */
function syncIteratorOf(source: unknown, input: unknown): Iterator<unknown> {
  const it = source as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null | undefined;
  if (isThenable(source) || (it != null && typeof it[Symbol.asyncIterator] === 'function')) {
    if (isThenable(source)) Promise.resolve(source).then(undefined, () => {});
    throw new TypeError(
      `A streaming task run by VirtualPool returned ${isThenable(source) ? 'a Promise' : 'an async iterable'} (for ${describe(input)}): ` +
        'virtual time cannot wait for it. Use a generator function (function*) or return an array in marble tests; model its time with `duration`',
    );
  }
  if (it == null || typeof it[Symbol.iterator] !== 'function') {
    throw new TypeError(`A streaming task returned ${describe(source)} (for ${describe(input)}), not an iterable: return a generator or an array`);
  }
  return (it[Symbol.iterator] as () => Iterator<unknown>).call(source);
}
