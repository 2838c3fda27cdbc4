/**
 * The engine both pools share: one FIFO queue, dispatch with pipelining, respawn, timeouts,
 * abort, recycling and shutdown. A `Transport` (thread or process) does the rest.
 *
 * Pipelining: a worker may hold several tasks at once, so it never waits for the main thread
 * between tiny tasks. How many depends on how long the task's function has been measured to take
 * (one at a time until measured, and for anything slow), so slow tasks are never stuck behind each
 * other on one worker while another idles. Tasks sent in one tick travel in one frame.
 */

import {
  AbortError,
  BrokenPoolError,
  DataCloneError,
  PoolShutdownError,
  RecursivePoolError,
  TaskTimeoutError,
  WorkerCrashedError,
} from '../errors.ts';
import type { AnyFn, BatchCallback, BatchResult, Cancel, MapOptions, Pool, PoolStats, RunBatchOptions, SubmitOptions, Task, TaskRef } from './Pool.ts';
import { mapPool } from './map.ts';
import { CLAIMS, Claim, FnKind, Op, unknownMessage, type DefMsg, type FromWorker, type ToWorker } from './protocol.ts';
import { expectDuration, expectInteger, type ResolvedPoolOptions } from './options.ts';
import { deserializeError, type SerializedError } from './serialize.ts';
import { performance } from 'node:perf_hooks';
import type { TransferListItem } from 'node:worker_threads';
import { describe, isTaskRef } from './task.ts';
import { workerEntry, type Spawn, type Transport } from './transport.ts';

const QUEUED = 0;
const SENT = 1;
const DONE = 2;

/** Pipelining: keep about this much measured work queued on each worker … */
const PIPELINE_MS = 2;
/** … but never more than this many messages. */
const MAX_DEPTH = 64;
/** A worker holding more tasks than this can wait a turn of the event loop for more (see #post). */
const FLUSH_LATER_AT = 8;
/** A worker asked to exit that is still alive after this long is stopped. */
const EXIT_GRACE_MS = 2_000;
/** Workers that die before they are ready this many times in a row mean a broken pool. */
const MAX_STARTUP_FAILURES = 3;

interface Def {
  readonly key: number;
  readonly message: DefMsg;
  readonly name: string;
  /** Measured milliseconds per message (moving average); undefined until measured. */
  ms: number | undefined;
}

type Settle = (error: Error | undefined, value: unknown) => void;

class Job {
  state = QUEUED;
  slot: Slot | null = null;
  timer: Deadline | null = null;
  next: Job | null = null;
  /** Its number on the worker it was sent to (its cell in that worker's claims). */
  seq = 0;
  /**
   * Asked back from a process worker's pipeline (Cancel sent), not settled: if the worker drops it,
   * it is requeued (steal) or rejected (shutdown with cancelPending); if it ran, its answer counts.
   */
  recall: 'steal' | AbortError | null = null;
  onAbort: (() => void) | null = null;
  constructor(
    readonly id: number,
    readonly def: Def,
    /** Run: the arguments; Batch: the items. */
    readonly payload: readonly unknown[],
    readonly batch: boolean,
    public settle: Settle,
    readonly timeout: number,
    readonly transfer: TransferListItem[] | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}
  /** Tasks this job counts for (a batch counts each item). */
  get size(): number {
    return this.batch ? this.payload.length : 1;
  }
}

class Slot {
  /** Jobs sent and not answered, in the order the worker runs them; [0] is running. */
  readonly inflight: Job[] = [];
  /** Function keys this worker has been sent. */
  readonly loaded: boolean[] = [];
  ready = false;
  /** No more work: recycled, timed out, aborted, idle too long, or shutting down. */
  retired = false;
  /** Tasks sent to it so far, for `maxTasksPerWorker`. */
  tasks = 0;
  /** Jobs sent to it so far: the next job's `seq`. */
  sent = 0;
  /** When its current first job started (for stealing from behind a stalled one). */
  headSince = 0;
  frame: ToWorker[] | null = null;
  transfer: TransferListItem[] | undefined = undefined;
  idleTimer: Deadline | null = null;
  /** Asked to exit: when it is stopped if it has not exited by itself. */
  graceTimer: Deadline | null = null;
  /** Stopped by the pool (timeout, abort, broken pool): nothing more is posted to it. */
  killed = false;
  /** What it reported before dying (an uncaught async throw). */
  lastError: Error | undefined = undefined;
  transport!: Transport;
}

/** FIFO of jobs; a cancelled job is skipped when it reaches the front. */
class JobQueue {
  head: Job | null = null;
  tail: Job | null = null;
  /** Live (not cancelled) jobs. */
  size = 0;
  push(job: Job): void {
    if (this.tail) this.tail.next = job;
    else this.head = job;
    this.tail = job;
    this.size++;
  }
  /** Puts jobs back at the front, keeping their order. */
  unshiftAll(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      job.next = this.head;
      this.head = job;
      if (!this.tail) this.tail = job;
      this.size++;
    }
  }
  peek(): Job | null {
    while (this.head && this.head.state !== QUEUED) this.shift();
    return this.head;
  }
  shift(): Job | null {
    const job = this.head;
    if (!job) return null;
    this.head = job.next;
    if (!this.head) this.tail = null;
    job.next = null;
    if (job.state === QUEUED) this.size--;
    return job;
  }
}

function noop(): void {}

/** Node fires any setTimeout above 2^31−1 ms after 1 ms, so longer limits are reached in steps. */
const MAX_TIMER = 0x7fffffff;

/** A one-shot timer that may be longer than 24.8 days; never keeps the process alive. */
class Deadline {
  #timer: NodeJS.Timeout;
  #due: number;
  constructor(ms: number, onExpire: () => void) {
    this.#due = performance.now() + ms;
    const arm = (left: number): NodeJS.Timeout => {
      const timer = setTimeout(() => {
        const rest = this.#due - performance.now();
        if (rest > 1) this.#timer = arm(rest);
        else onExpire();
      }, Math.min(left, MAX_TIMER));
      timer.unref();
      return timer;
    };
    this.#timer = arm(ms);
  }
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** How long the first job of a pipeline may run before the jobs behind it may be stolen. */
function stallMs(def: Def): number {
  return Math.max(1, 4 * (def.ms ?? 0));
}

/** How many messages of `def` a worker may hold: one until measured, more the faster it is. */
function depthFor(def: Def): number {
  return def.ms === undefined ? 1 : Math.max(1, Math.min(MAX_DEPTH, Math.floor(PIPELINE_MS / def.ms)));
}

/**
 * The executor both `ThreadPool` and `ProcessPool` are: `submit`, a lazy ordered `map`,
 * `shutdown`, `await using`, and the `Pool` interface the operators consume.
 */
export abstract class WorkerPool implements Pool, AsyncDisposable {
  /** How many workers run at once. */
  readonly maxWorkers: number;
  readonly #options: ResolvedPoolOptions;
  readonly #spawn: Spawn;
  readonly #kind: string;
  readonly #slots: Slot[] = [];
  /** Transports not yet exited, including retired ones still stopping. */
  #alive = 0;
  readonly #queue = new JobQueue();
  readonly #defsByFn = new WeakMap<AnyFn, Def>();
  readonly #defsByKey = new Map<string, Def>();
  #initDef: Def | undefined;
  #nextId = 1;
  #state: 'open' | 'closing' | 'broken' = 'open';
  #stealTimer: Deadline | null = null;
  #broken: BrokenPoolError | undefined;
  #startupFailures = 0;
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  #busyTime = 0;
  readonly #createdAt = performance.now();
  readonly #dirty: Slot[] = [];
  /** A flush is queued as a microtask / as an immediate. */
  #flushSoon = false;
  #flushLater = false;
  #exited: Promise<void> | undefined;
  #resolveExited: (() => void) | undefined;

  protected constructor(kind: string, options: ResolvedPoolOptions, spawn: Spawn) {
    const importing = (globalThis as Record<PropertyKey, unknown>)[Symbol.for('rxjs-pools.importing')];
    if (importing) {
      throw new RecursivePoolError(
        `A ${kind} was created while a pool worker was importing the task module ${String(importing)}, so every ` +
          `worker would start a pool of its own. Create pools only in code that runs in your main program: keep ` +
          `tasks in a module that does not create pools, or guard the creation with \`if (!isPoolWorker())\` ` +
          `(from rxjs-pools) — Node's version of Python's \`if __name__ == "__main__":\``,
      );
    }
    this.#kind = kind;
    this.#options = options;
    this.#spawn = spawn;
    this.maxWorkers = options.maxWorkers;
    if (options.initializer !== undefined) this.#initDef = this.#defOf(options.initializer);
  }

  /**
   * Runs `fn(...args)` on a worker.
   * @returns The task's return value (awaited), or its error with name, message, stack, code,
   * cause and own fields kept.
   */
  submit<F extends AnyFn>(fn: Task<F>, args: Parameters<F>, options?: SubmitOptions): Promise<Awaited<ReturnType<F>>> {
    return new Promise((resolve, reject) => {
      try {
        if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array of arguments, got ${describe(args)}`);
        const { signal, timeout, transfer } = this.#checkSubmitOptions(options);
        const settle: Settle = (error, value) => (error ? reject(error) : resolve(value as Awaited<ReturnType<F>>));
        this.#enqueue(this.#defOf(fn), args, false, settle, timeout, transfer, signal);
      } catch (error) {
        reject(error);
      }
    });
  }

  /**
   * Runs `fn(item)` for each item and yields the results in input order, lazily: it reads at most
   * `buffersize` items ahead of the consumer. An item's error is thrown when iteration reaches it;
   * leaving the loop early cancels everything still pending. Bad arguments throw at once.
   */
  map<F extends (value: any) => unknown>(
    fn: Task<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: MapOptions = {},
  ): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined> {
    this.#defOf(fn); // a bad task throws now, not at the first batch
    return mapPool(this, fn, iterable, options);
  }

  /** `Pool` for the operators: runs `fn(item)` for each item as one message. */
  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>, options?: RunBatchOptions): Cancel {
    try {
      if (!Array.isArray(items)) throw new TypeError(`Expected \`items\` to be an array, got ${describe(items)}`);
      return this.#enqueue(this.#defOf(fn), items, true, callback as Settle, options?.timeout);
    } catch (error) {
      // Never call back synchronously, and not at all once cancelled.
      let cancelled = false;
      queueMicrotask(() => cancelled || callback(error as Error, undefined));
      return () => void (cancelled = true);
    }
  }

  /**
   * Stops the pool. Later submits reject with `PoolShutdownError`; running tasks finish; queued
   * tasks run too unless `cancelPending`, which rejects them with `AbortError`. Idempotent.
   * @param options.wait Resolve only once every worker has exited. @default true
   * @param options.cancelPending Reject queued tasks instead of running them. @default false
   */
  shutdown(options: { wait?: boolean; cancelPending?: boolean } = {}): Promise<void> {
    const { wait = true, cancelPending = false } = options;
    if (typeof wait !== 'boolean') throw new TypeError(`Expected \`wait\` to be a boolean, got ${describe(wait)}`);
    if (typeof cancelPending !== 'boolean') throw new TypeError(`Expected \`cancelPending\` to be a boolean, got ${describe(cancelPending)}`);
    if (this.#state === 'open') this.#state = 'closing';
    this.#exited ??= new Promise<void>((resolve) => (this.#resolveExited = resolve));
    if (cancelPending) {
      const reason = () => new AbortError(`${this.#kind} was shut down with cancelPending before this task started`);
      for (let job = this.#queue.peek(); job; job = this.#queue.peek()) {
        this.#queue.shift();
        this.#finish(job, reason(), undefined);
      }
      // Tasks sent to a worker that have not started: a thread's are taken back at once; a process
      // is asked, and a task it has already run (or is running) keeps its result.
      for (const slot of [...this.#slots]) {
        for (const job of slot.inflight.slice(1)) {
          if (job.state === DONE) continue;
          if (this.#takeBack(slot, job)) {
            slot.inflight.splice(slot.inflight.indexOf(job), 1);
            this.#finish(job, reason(), undefined);
          } else if (!slot.transport.claims) {
            if (job.recall === null) this.#post(slot, [Op.Cancel, job.id]);
            job.recall = reason(); // rejected, not requeued, when the worker drops it
          }
        }
      }
    }
    this.#pump();
    return wait ? this.#exited : Promise.resolve();
  }

  /** `await using pool = new ThreadPool()` shuts it down (and waits) at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  get stats(): PoolStats {
    let busy = 0;
    for (const slot of this.#slots) if (slot.inflight.length > 0) busy++;
    const uptime = performance.now() - this.#createdAt;
    const closed = this.#alive === 0 && this.#queue.size === 0;
    return {
      state: this.#state === 'closing' && closed ? 'closed' : this.#state,
      workers: this.#slots.length,
      busy,
      queued: this.#queue.size,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      busyTime: this.#busyTime,
      uptime,
      utilization: uptime > 0 ? Math.min(1, this.#busyTime / (this.maxWorkers * uptime)) : 0,
    };
  }

  // ── submission ────────────────────────────────────────────────────────────────────────────────

  /** Queues a job; arguments are already checked. Throws if the pool takes no more work. */
  #enqueue(
    def: Def,
    payload: readonly unknown[],
    batch: boolean,
    settle: Settle,
    timeout: number | undefined,
    transfer?: TransferListItem[],
    signal?: AbortSignal,
  ): Cancel {
    if (this.#state !== 'open') {
      throw this.#broken ?? new PoolShutdownError(`${this.#kind} has been shut down: it accepts no new tasks`);
    }
    if (signal?.aborted) throw new AbortError('The task was aborted before it was submitted', { cause: signal.reason });
    const job = new Job(this.#nextId++, def, payload, batch, settle, timeout ?? this.#options.taskTimeout, transfer, signal);
    if (signal) {
      job.onAbort = () => this.#cancel(job, new AbortError('The task was aborted', { cause: signal.reason }));
      signal.addEventListener('abort', job.onAbort, { once: true });
    }
    this.#queue.push(job);
    this.#pump();
    return (reason?: unknown) => {
      if (job.state !== DONE) this.#cancel(job, new AbortError('The task was cancelled', { cause: reason }), true);
    };
  }

  #checkSubmitOptions(options: SubmitOptions | undefined): { signal?: AbortSignal; timeout?: number; transfer?: TransferListItem[] } {
    if (options === undefined) return {};
    if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
    const { signal, timeout, transfer } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
    }
    if (timeout !== undefined) expectDuration('timeout', timeout);
    if (transfer !== undefined && !Array.isArray(transfer)) throw new TypeError(`Expected \`transfer\` to be an array, got ${describe(transfer)}`);
    return { signal, timeout, transfer: transfer as TransferListItem[] | undefined };
  }

  /** The definition a worker needs to run `fn`, made once per function. */
  #defOf(fn: unknown): Def {
    if (typeof fn === 'function') {
      let def = this.#defsByFn.get(fn as AnyFn);
      if (def) return def;
      const source = Function.prototype.toString.call(fn);
      if (/\{\s*\[native code\]\s*\}$/.test(source)) {
        throw new TypeError(
          `${describe(fn)} is a bound or native function, which cannot be sent to a worker: ` +
            `pass a plain function, or export it from a module and use task(new URL('./tasks.ts', import.meta.url), 'name')`,
        );
      }
      def = this.#define(`inline:${source}`, FnKind.Inline, source, fn.name);
      this.#defsByFn.set(fn as AnyFn, def);
      return def;
    }
    if (isTaskRef(fn)) {
      const ref = fn as TaskRef;
      return this.#define(`module:${ref.name}@${ref.module}`, FnKind.Module, ref.module, ref.name);
    }
    throw new TypeError(`Expected a task: a function or a task(module, name) reference, got ${describe(fn)}`);
  }

  #define(id: string, kind: DefMsg[2], where: string, name: string): Def {
    let def = this.#defsByKey.get(id);
    if (!def) {
      const key = this.#defsByKey.size;
      def = { key, message: [Op.Def, key, kind, where, name] as DefMsg, name: name || '(anonymous)', ms: undefined };
      this.#defsByKey.set(id, def);
    }
    return def;
  }

  // ── dispatch ──────────────────────────────────────────────────────────────────────────────────

  #pump(): void {
    for (let job = this.#queue.peek(); job; job = this.#queue.peek()) {
      const slot = this.#pick(job.def);
      if (!slot) break;
      this.#queue.shift();
      this.#send(slot, job);
    }
    if (this.#state === 'closing' && this.#queue.size === 0) {
      for (const slot of [...this.#slots]) if (slot.inflight.length === 0) this.#retire(slot);
      this.#checkExited();
    }
  }

  /** An idle worker, else a new one, else the least loaded one with room in its pipeline. */
  #pick(def: Def): Slot | null {
    let best: Slot | null = null;
    for (const slot of this.#slots) {
      if (slot.retired) continue;
      if (slot.inflight.length === 0) return slot;
      if (!best || slot.inflight.length < best.inflight.length) best = slot;
    }
    if (this.#slots.length < this.maxWorkers && this.#state !== 'broken') return this.#start();
    return best && best.inflight.length < depthFor(def) ? best : null;
  }

  #start(): Slot | null {
    const slot = new Slot();
    const init = this.#initDef !== undefined;
    try {
      slot.transport = this.#spawn(
        { entry: workerEntry, init },
        {
          message: (message) => this.#onMessage(slot, message),
          exit: (code, signal, error) => this.#onExit(slot, code, signal, error),
        },
      );
    } catch (error) {
      // new Worker() / fork() refused outright (resources, arguments): retrying cannot help.
      this.#break(new BrokenPoolError(`${this.#kind} cannot start a worker: ${(error as Error).message}`, { cause: error }));
      return null;
    }
    this.#alive++;
    this.#slots.push(slot);
    if (this.#initDef) {
      this.#post(slot, this.#initDef.message);
      slot.loaded[this.#initDef.key] = true;
      this.#post(slot, [Op.Init, this.#initDef.key, this.#options.initArgs]);
    }
    return slot;
  }

  #send(slot: Slot, job: Job): void {
    job.state = SENT;
    job.slot = slot;
    job.recall = null;
    job.seq = slot.sent++;
    slot.inflight.push(job);
    if (!slot.loaded[job.def.key]) {
      slot.loaded[job.def.key] = true;
      this.#post(slot, job.def.message);
    }
    // The cell's previous job (seq − CLAIMS) is long settled: a worker holds at most MAX_DEPTH.
    if (slot.transport.claims) Atomics.store(slot.transport.claims, job.seq % CLAIMS, Claim.Free);
    this.#post(slot, [job.batch ? Op.Batch : Op.Run, job.id, job.def.key, job.payload, job.seq] as ToWorker, job.transfer);
    slot.tasks += job.size;
    if (slot.tasks >= this.#options.maxTasksPerWorker) slot.retired = true;
    if (slot.inflight.length === 1) {
      if (slot.idleTimer) slot.idleTimer.clear();
      slot.idleTimer = null;
      slot.transport.ref();
      this.#startHead(slot);
    }
  }

  /**
   * Queues a message for `slot`; what is queued together goes out as one frame. A worker with
   * little to do gets it at the end of this tick (a microtask); one that holds more than
   * FLUSH_LATER_AT tasks can wait for the end of this turn of the event loop (setImmediate), so the
   * tasks started by a burst of answers travel together instead of one postMessage each (measured:
   * about 1.6× the throughput of mapOnPool at concurrency 64 on tiny tasks, pool.map unchanged).
   */
  #post(slot: Slot, message: ToWorker, transfer?: TransferListItem[]): void {
    if (!slot.frame) {
      slot.frame = [];
      this.#dirty.push(slot);
    }
    slot.frame.push(message);
    if (transfer) (slot.transfer ??= []).push(...transfer);
    if (slot.inflight.length <= FLUSH_LATER_AT || message[0] === Op.Cancel || message[0] === Op.Exit) {
      if (!this.#flushSoon) {
        this.#flushSoon = true;
        queueMicrotask(this.#flush);
      }
    } else if (!this.#flushLater) {
      this.#flushLater = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushSoon = false;
    this.#flushLater = false;
    for (const slot of this.#dirty.splice(0)) {
      const frame = slot.frame!;
      const transfer = slot.transfer;
      slot.frame = null;
      slot.transfer = undefined;
      if (slot.killed) continue;
      try {
        slot.transport.post(frame, transfer);
      } catch {
        this.#postEach(slot, frame);
      }
    }
  };

  /** Something in the frame cannot be cloned: post message by message and fail only the culprits. */
  #postEach(slot: Slot, frame: ToWorker[]): void {
    for (const message of frame) {
      try {
        const job = message[0] === Op.Run || message[0] === Op.Batch ? slot.inflight.find((j) => j.id === message[1]) : undefined;
        slot.transport.post([message], job?.transfer);
      } catch (error) {
        const job = slot.inflight.find((j) => j.id === message[1]);
        if (!job) continue;
        const what = job.batch ? 'An item' : 'An argument';
        this.#settleSent(
          slot,
          job,
          new DataCloneError(`${what} of task ${job.def.name} could not be sent to the worker: ${(error as Error).message}`, { cause: error }),
          undefined,
        );
      }
    }
  }

  /**
   * The first job a worker holds is the one it is running: its timeout starts now (or once the
   * worker is ready: start-up and the initializer are not the task's time). A job that was
   * cancelled after it was sent (a phantom) reaching the front means the worker is running, or
   * about to run, what nobody wants any more: the worker is replaced.
   */
  #startHead(slot: Slot): void {
    const job = slot.inflight[0];
    if (job?.state === DONE) return this.#retire(slot, true);
    if (!job || !slot.ready) return;
    slot.headSince = performance.now();
    if (job.timer || job.timeout === Infinity) return;
    const limit = job.timeout * job.size;
    job.timer = new Deadline(limit, () => {
      job.timer = null;
      this.#fault(slot, job, new TaskTimeoutError(`Task ${job.def.name} timed out after ${limit} ms; its worker was replaced`, limit));
    });
  }

  // ── answers ───────────────────────────────────────────────────────────────────────────────────

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message[0]) {
      case Op.Ready:
        slot.ready = true;
        this.#startupFailures = 0;
        return this.#startHead(slot);
      case Op.Cancelled: {
        // The worker dropped a job we withdrew before it started: forget the phantom, or give
        // the job it was asked back for stealing to another worker.
        const index = slot.inflight.findIndex((job) => job.id === message[1]);
        if (index < 0) return;
        const [job] = slot.inflight.splice(index, 1);
        if (job!.recall === 'steal') this.#requeue([job!]);
        else if (job!.recall) this.#finish(job!, job!.recall, undefined);
        if (index === 0) this.#startHead(slot);
        if (slot.inflight.length === 0 && this.#slots.includes(slot)) this.#idle(slot);
        return this.#pump();
      }
      case Op.Ok:
        return this.#answer(slot, message[1], message[3], undefined, message[2]);
      case Op.Err:
        return this.#answer(slot, message[1], message[3], deserializeError(message[2]), undefined);
      case Op.BatchDone: {
        const [, id, values, errors, ms] = message;
        const result: BatchResult<unknown> = errors ? { values, errors: errors.map((e) => e && deserializeError(e)) } : { values };
        return this.#answer(slot, id, ms, undefined, result);
      }
      case Op.InitFailed:
        return this.#break(
          new BrokenPoolError(`The initializer of ${this.#kind} threw, so no worker can run tasks: ${message[1].message}`, {
            cause: deserializeError(message[1]),
          }),
        );
      case Op.Uncaught:
        slot.lastError = deserializeError(message[1] as SerializedError);
        return;
      default:
        throw unknownMessage('pool', message);
    }
  }

  #answer(slot: Slot, id: number, ms: number, error: Error | undefined, value: unknown): void {
    const index = slot.inflight.findIndex((job) => job.id === id);
    if (index < 0) return; // its worker was replaced meanwhile
    const job = slot.inflight[index]!;
    slot.ready = true;
    const def = job.def;
    def.ms = def.ms === undefined ? ms : def.ms * 0.8 + ms * 0.2;
    this.#busyTime += ms;
    this.#settleSent(slot, job, error, value, index);
  }

  /** Settles a job a worker holds, and looks after the worker: next head, idleness, more work. */
  #settleSent(slot: Slot, job: Job, error: Error | undefined, value: unknown, index = slot.inflight.indexOf(job)): void {
    if (index >= 0) slot.inflight.splice(index, 1);
    this.#finish(job, error, value);
    if (index === 0) this.#startHead(slot);
    if (slot.inflight.length === 0 && this.#slots.includes(slot)) this.#idle(slot);
    // Refill a pipelined worker only once it has drained to half its depth, so refills travel
    // many tasks to a frame rather than one.
    if (slot.inflight.length <= depthFor(job.def) >> 1) this.#pump();
  }

  #finish(job: Job, error: Error | undefined, value: unknown): void {
    if (job.state === DONE) return;
    job.state = DONE;
    job.slot = null;
    if (job.timer) job.timer.clear();
    job.timer = null;
    if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
    if (error instanceof AbortError) {
      this.#cancelled += job.size;
    } else if (error) {
      this.#failed += job.size;
    } else if (job.batch) {
      const errors = (value as BatchResult<unknown>).errors;
      let failed = 0;
      if (errors) for (const e of errors) if (e) failed++;
      this.#failed += failed;
      this.#completed += job.size - failed;
    } else {
      this.#completed++;
    }
    job.settle(error, value);
  }

  #idle(slot: Slot): void {
    slot.transport.unref();
    if (slot.retired || (this.#state === 'closing' && this.#queue.size === 0)) {
      this.#retire(slot);
      return;
    }
    if (this.#options.idleTimeout !== Infinity) {
      slot.idleTimer = new Deadline(this.#options.idleTimeout, () => this.#retire(slot));
    }
    if (this.#queue.size === 0) this.#steal();
  }

  // ── cancellation, faults, exits ───────────────────────────────────────────────────────────────

  /** Abort or cancel: a queued job is dropped; a sent one is withdrawn (a running one costs its worker). */
  #cancel(job: Job, error: AbortError, quiet = false): void {
    if (job.state === DONE) return;
    if (quiet) job.settle = noop;
    if (job.state === QUEUED) {
      // It stays linked in the queue until it reaches the front, which skips it.
      this.#queue.size--;
      this.#finish(job, error, undefined);
      return;
    }
    this.#withdraw(job.slot!, job, error);
    this.#pump();
  }

  /** The running job failed in a way that costs the worker (timeout, abort): replace it. */
  #fault(slot: Slot, job: Job, error: Error): void {
    slot.inflight.splice(slot.inflight.indexOf(job), 1);
    this.#finish(job, error, undefined);
    this.#retire(slot, true);
  }

  /**
   * Settles a job a worker holds. If it has not started it never will: a thread's job is taken
   * back through its claim cell; a process is sent Cancel. A job that is running costs its worker.
   * One that may have started meanwhile (the answer of the one before it still on its way) stays
   * in the pipeline as a settled phantom until the worker confirms the drop or answers it; if it
   * reaches the front first, the worker is replaced (#startHead).
   */
  #withdraw(slot: Slot, job: Job, error: Error): void {
    const index = slot.inflight.indexOf(job);
    if (this.#takeBack(slot, job)) {
      slot.inflight.splice(index, 1);
      this.#finish(job, error, undefined);
      if (index === 0) this.#startHead(slot);
      if (slot.inflight.length === 0 && this.#slots.includes(slot)) this.#idle(slot);
      return;
    }
    if (index === 0) return this.#fault(slot, job, error);
    if (!slot.transport.claims) this.#post(slot, [Op.Cancel, job.id]);
    this.#finish(job, error, undefined);
  }

  /** Threads: claims a job that has not started, so the worker skips it. False if it started (or a process). */
  #takeBack(slot: Slot, job: Job): boolean {
    const claims = slot.transport.claims;
    return claims !== undefined && Atomics.compareExchange(claims, job.seq % CLAIMS, Claim.Free, Claim.Taken) === Claim.Free;
  }

  /**
   * A worker went idle with nothing queued while another holds tasks behind one that has run far
   * longer than measured (a "fast" function met a slow item): take those tasks back and give them
   * to idle workers. Threads take them back at once (claims); a process is asked (Cancel) and
   * returns them when its current task ends, since it reads no message while a task blocks it.
   */
  #steal(): void {
    this.#stealTimer?.clear();
    this.#stealTimer = null;
    if (this.#queue.size > 0 || this.#state === 'broken') return;
    const now = performance.now();
    let wait = Infinity;
    for (const slot of this.#slots) {
      const head = slot.inflight[0];
      if (!head || slot.inflight.length < 2 || !slot.ready) continue;
      const left = slot.headSince + stallMs(head.def) - now;
      if (left > 0) {
        wait = Math.min(wait, left);
        continue;
      }
      const taken: Job[] = [];
      for (const job of slot.inflight.slice(1)) {
        if (job.state === DONE || job.recall) continue;
        if (this.#takeBack(slot, job)) {
          slot.inflight.splice(slot.inflight.indexOf(job), 1);
          taken.push(job);
        } else if (!slot.transport.claims) {
          job.recall = 'steal';
          this.#post(slot, [Op.Cancel, job.id]);
        }
      }
      this.#requeue(taken);
    }
    if (wait !== Infinity) this.#stealTimer = new Deadline(wait, () => this.#steal());
    if (this.#queue.size > 0) this.#pump();
  }

  /**
   * Takes a worker out of service. Idle: asked to exit. With `kill`: stopped at once, and the tasks
   * queued on it behind the running one (which has been settled) go back to the front of the queue.
   */
  #retire(slot: Slot, kill = false): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    slot.retired = true;
    if (slot.idleTimer) slot.idleTimer.clear();
    slot.idleTimer = null;
    // Keep the process alive until the worker is gone, so `await pool.shutdown()` can resolve.
    slot.transport.ref();
    if (kill) {
      this.#requeue(slot.inflight.splice(0));
      slot.killed = true;
      slot.transport.kill();
    } else {
      // It leaves by itself once its pending I/O is done (a log line, tsx's cache write); one
      // that something keeps alive (a task's leftover timer or socket) is stopped after a grace.
      this.#post(slot, [Op.Exit]);
      slot.graceTimer = new Deadline(EXIT_GRACE_MS, () => {
        slot.killed = true;
        slot.transport.kill();
      });
    }
    this.#pump();
  }

  /** Puts jobs a worker held back at the front of the queue (phantoms are dropped). */
  #requeue(held: Job[]): void {
    const jobs = held.filter((job) => job.state !== DONE);
    for (const job of jobs) {
      job.state = QUEUED;
      job.slot = null;
      if (job.timer) job.timer.clear();
      job.timer = null;
    }
    this.#queue.unshiftAll(jobs);
  }

  #onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    this.#alive--;
    slot.graceTimer?.clear();
    const index = this.#slots.indexOf(slot);
    if (index >= 0) {
      // It died on its own.
      this.#slots.splice(index, 1);
      slot.retired = true;
      if (slot.idleTimer) slot.idleTimer.clear();
      const held = slot.inflight.splice(0);
      const cause = slot.lastError ?? error;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!slot.ready) {
        this.#requeue(held);
        if (++this.#startupFailures >= MAX_STARTUP_FAILURES) {
          this.#break(
            new BrokenPoolError(
              `${this.#kind} workers keep dying during start-up (${this.#startupFailures} in a row; the last ${how}), so no more are started`,
              { cause },
            ),
          );
        }
      } else if (held.length > 0) {
        // The first job it held was running; the others never started and go back to the queue.
        // (A settled phantom at the front was running: nobody is waiting for it.)
        const [running, ...waiting] = held as [Job, ...Job[]];
        this.#requeue(waiting);
        const detail = cause ? `: ${cause.message}` : '';
        this.#finish(
          running,
          new WorkerCrashedError(`The worker running task ${running.def.name} ${how}${detail}`, code, signal, { cause }),
          undefined,
        );
      }
    }
    this.#pump();
    this.#checkExited();
  }

  #break(error: BrokenPoolError): void {
    if (this.#state === 'broken') return;
    this.#state = 'broken';
    this.#broken = error;
    this.#exited ??= new Promise<void>((resolve) => (this.#resolveExited = resolve));
    for (let job = this.#queue.peek(); job; job = this.#queue.peek()) {
      this.#queue.shift();
      this.#finish(job, error, undefined);
    }
    for (const slot of [...this.#slots]) {
      for (const job of slot.inflight.splice(0)) this.#finish(job, error, undefined);
      this.#retire(slot, true);
    }
    this.#checkExited();
  }

  #checkExited(): void {
    if (this.#state !== 'open' && this.#alive === 0 && this.#queue.size === 0) this.#resolveExited?.();
  }
}
