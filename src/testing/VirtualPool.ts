import { inspect } from 'node:util';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { TaskError } from '../errors.ts';
import type { BatchCallback, BatchResult, Cancel, Pool, Task } from '../pools/Pool.ts';
import { describe, isTaskRef } from '../pools/task.ts';

/** Options of {@link VirtualPool}. */
export interface VirtualPoolOptions<T = any> {
  /** Batches running at once; the rest wait in a FIFO queue. Also the operators' default `concurrency`. */
  readonly maxWorkers: number;
  /**
   * How long a task takes, in frames (virtual milliseconds) of the scheduler. A batch takes the sum
   * of its items' durations. Called when the batch is submitted; must return a finite number ≥ 0.
   */
  readonly duration: (value: T) => number;
  /**
   * The scheduler whose clock the pool runs on. Inside `testScheduler.run(...)` the default
   * `asyncScheduler` runs in virtual time.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike;
}

/** What happened to one batch, for assertions (frames are the scheduler's `now()`). */
export interface VirtualBatch {
  /** 0, 1, 2, … in submission order. */
  readonly id: number;
  readonly items: readonly unknown[];
  /** Frame it was submitted at. */
  readonly submittedAt: number;
  /** Frame it got a worker, once it has. */
  startedAt: number | undefined;
  /** Frame it finished or was cancelled at, once it has. */
  endedAt: number | undefined;
  state: 'queued' | 'running' | 'done' | 'cancelled';
}

interface Job {
  readonly record: VirtualBatch;
  readonly fn: (value: unknown) => unknown;
  readonly callback: BatchCallback<unknown>;
  readonly duration: number;
  action: Subscription | undefined;
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
    if (typeof fn !== 'function') {
      const what = isTaskRef(fn) ? `a task(module, name) reference (${fn.name} in ${fn.module})` : describe(fn);
      throw new TypeError(
        `VirtualPool runs inline functions only, got ${what}: it runs tasks on the main thread in virtual time and loads no modules. Pass the function itself`,
      );
    }
    if (!Array.isArray(items)) throw new TypeError(`Expected \`items\` to be an array, got ${describe(items)}`);
    let duration = 0;
    for (const item of items) {
      const frames = this.#duration(item);
      if (typeof frames !== 'number' || !Number.isFinite(frames) || frames < 0) {
        throw new TypeError(`Expected \`duration\` to return a number of frames from 0 and up, got ${describe(frames)} for ${describe(item)}`);
      }
      duration += frames;
    }
    const record: VirtualBatch = {
      id: this.log.length,
      items: [...items],
      submittedAt: this.#scheduler.now(),
      startedAt: undefined,
      endedAt: undefined,
      state: 'queued',
    };
    (this.log as VirtualBatch[]).push(record);
    const job: Job = { record, fn: fn as (value: unknown) => unknown, callback: callback as BatchCallback<unknown>, duration, action: undefined };
    this.#queue.push(job);
    this.#pump();
    return () => this.#cancel(job);
  }

  #pump(): void {
    while (this.#running < this.maxWorkers && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      job.record.state = 'running';
      job.record.startedAt = this.#scheduler.now();
      this.#running++;
      if (this.#running > this.#peakRunning) this.#peakRunning = this.#running;
      // One scheduled action per batch, created when it starts: the same place in the scheduler's
      // queue as the `timer(duration)` of the equivalent concatMap/mergeMap, so ties break alike.
      job.action = this.#scheduler.schedule(() => this.#complete(job), job.duration);
    }
  }

  #complete(job: Job): void {
    if (job.record.state !== 'running') return;
    job.record.state = 'done';
    job.record.endedAt = this.#scheduler.now();
    this.#running--;
    const { items } = job.record;
    const values: unknown[] = new Array(items.length);
    let errors: (Error | undefined)[] | undefined;
    for (let i = 0; i < items.length; i++) {
      try {
        const value = job.fn(items[i]);
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
        (errors ??= new Array(items.length))[i] =
          thrown instanceof Error
            ? thrown
            : // The same message a real pool gives (src/pools/serialize.ts), so scenarios compare alike.
              new TaskError(`Task threw a non-Error value: ${inspect(thrown, { depth: 2, breakLength: Infinity }).slice(0, 200)}`, thrown);
      }
    }
    const result: BatchResult<unknown> = errors ? { values, errors } : { values };
    job.callback(undefined, result);
    this.#pump();
  }

  #cancel(job: Job): void {
    const { record } = job;
    if (record.state === 'queued') {
      this.#queue.splice(this.#queue.indexOf(job), 1);
    } else if (record.state === 'running') {
      job.action?.unsubscribe();
      this.#running--;
    } else {
      return; // done or already cancelled: idempotent
    }
    record.state = 'cancelled';
    record.endedAt = this.#scheduler.now();
    this.#pump();
  }
}
