/**
 * The executor both pools are: one FIFO queue, dispatch with pipelining, answers, cancellation,
 * respawn and shutdown. A `Transport` (thread or process) does the rest.
 *
 * The life of a batch, from an operator to a worker and back (a `submit` is the same with Run):
 *
 *     mapOnPool ─► BatchWindow.start ─► WorkerPool.runBatch ─► #enqueue: a Job, Queued, in #queue
 *        ─► #pump ─► #pick (an idle worker, a new one, or the least loaded with room: pipeline.ts)
 *        ─► #send: Sent, in slot.inflight ─► Outbox.post ─► one frame per worker per tick
 *        ─► transport.post ─► worker/entry.js: Def (once), Run/Batch ─► the task ─► Ok/Err/BatchDone
 *        ─► #onMessage ─► #answer: measure(), out of slot.inflight ─► #finish: Done ─► job.settle ─► #afterRelease
 *        ─► BatchWindow's callback ─► the reorder buffer ─► mapOnPool emits in order
 *
 * Jobs and worker slots each keep their lifecycle in one field (`Job.phase`, `WorkerSlot.phase`),
 * with the transitions here: #send, #requeue, #recall, #hold, #close, #finish for jobs; #startWorker,
 * #onReady, #drain, #leave, #kill, #onExit for slots. `pipeline.ts` holds the rules (depth,
 * stealing, batching); `Outbox.ts` the framing; `definitions.ts` the functions; `map.ts` `map`;
 * `stream.ts` streaming tasks (a stream job's credits and values).
 */

import type { TransferListItem } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import {
  AbortError,
  BrokenPoolError,
  DataCloneError,
  PoolShutdownError,
  TaskTimeoutError,
  WorkerCrashedError,
} from '../errors.ts';
import { Deadline } from './Deadline.ts';
import { Definitions, type Definition } from './definitions.ts';
import { Job, JobPhase, JobQueue, type Settle } from './Job.ts';
import { mapPool } from './map.ts';
import { checkSubmitOptions, type ResolvedPoolOptions } from './options.ts';
import { Outbox } from './Outbox.ts';
import { AbortWatch } from './signals.ts';
import { Tally } from './Tally.ts';
import { refuseRecursivePool } from './worker-flag.ts';
import { batchingFor, depthFor, measure, stallMs } from './pipeline.ts';
import type { AnyFn, BatchCallback, BatchResult, Batching, Cancel, MapOptions, Pool, PoolStats, RunBatchOptions, SubmitOptions, Task } from './Pool.ts';
import type { RunStreamOptions, StreamControl, StreamFn, StreamOptions, StreamSink, StreamValue } from './Pool.ts';
import { CLAIMS, Claim, Op, carriesTask, unknownMessage, type FromWorker, type ToWorker } from './protocol.ts';
import { openStream, receive, streamPool, type StreamChannel } from './stream.ts';
import { asBuffer, bufferIndexes, restoreBuffers } from './worker/buffers.js';
import { deserializeError } from './serialize.ts';
import { describe } from './task.ts';
import { workerEntry, type Spawn } from './transport.ts';
import { DefState, SlotPhase, WorkerSlot } from './WorkerSlot.ts';

/** A worker asked to exit that is still alive after this long is stopped. */
const EXIT_GRACE_MS = 2_000;
/** Workers that die before they are ready this many times in a row mean a broken pool. */
const MAX_STARTUP_FAILURES = 3;
/** A withdrawn job held at the head of a process worker: how long it may take to be dropped or answered before the worker is stopped. */
const HELD_HEAD_MS = 50;
/** A stream its consumer left: how long its worker may take to close it (run its finally blocks) and answer before it is stopped. */
const STREAM_CLOSE_MS = 2_000;

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
  /** Every worker not yet gone, in service or leaving. */
  readonly #slots = new Set<WorkerSlot>();
  readonly #queue = new JobQueue();
  readonly #defs = new Definitions();
  readonly #outbox = new Outbox((slot, message, error) => this.#cloneFailed(slot, message, error));
  readonly #signals = new AbortWatch((jobs, reason) => {
    const error = new AbortError('The task was aborted', { cause: reason });
    for (const job of jobs) this.#cancel(job, error, true);
  });
  readonly #initDef: Definition | undefined;
  #nextId = 1;
  #state: 'open' | 'closing' | 'broken' = 'open';
  #broken: BrokenPoolError | undefined;
  #startupFailures = 0;
  /** Why the first worker of the current run of start-up deaths died: the BrokenPoolError's cause. */
  #firstStartupFailure: unknown;
  #stealTimer: Deadline | null = null;
  #pumpQueued = false;
  readonly #tally = new Tally();
  readonly #createdAt = performance.now();
  #exited: Promise<void> | undefined;
  #resolveExited: (() => void) | undefined;

  protected constructor(kind: string, options: ResolvedPoolOptions, spawn: Spawn) {
    refuseRecursivePool(kind);
    this.#kind = kind;
    this.#options = options;
    this.#spawn = spawn;
    this.maxWorkers = options.maxWorkers;
    if (options.initializer !== undefined) this.#initDef = this.#defs.of(options.initializer);
  }

  // ── the executor ─────────────────────────────────────────────────────────────────────────────

  /**
   * Runs `fn(...args)` on a worker.
   * @returns The task's return value (awaited), or its error with name, message, stack, code,
   * cause and own fields kept.
   */
  submit<F extends AnyFn>(fn: Task<F>, args: Parameters<F>, options?: SubmitOptions): Promise<Awaited<ReturnType<F>>> {
    return new Promise((resolve, reject) => {
      try {
        if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array of arguments, got ${describe(args)}`);
        const { signal, timeout, transfer } = checkSubmitOptions(options);
        const settle: Settle = (error, value) => (error ? reject(error) : resolve(value as Awaited<ReturnType<F>>));
        this.#enqueue(this.#defs.of(fn), args, false, settle, timeout, transfer, signal);
      } catch (error) {
        reject(error);
      }
    });
  }

  /**
   * Runs `fn(item)` for each item and yields the results in input order, lazily: it reads at most
   * `buffersize` items ahead of the consumer, starting when `map` is called. An item's error is
   * thrown when iteration reaches it; leaving the loop early cancels everything still pending.
   * Bad arguments throw at once.
   */
  map<F extends (value: any) => unknown>(
    fn: Task<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: MapOptions = {},
  ): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined> {
    this.#defs.of(fn); // a bad task throws now, not at the first batch
    return mapPool(this, fn, iterable, options);
  }

  /**
   * Runs `fn(...args)`, an async generator function (or one returning an iterable), on a worker
   * and yields its values as they come, at most `buffersize` ahead of the consumer (stream.ts).
   */
  stream<F extends StreamFn>(fn: Task<F>, args: Parameters<F>, options?: StreamOptions): AsyncGenerator<StreamValue<F>, void, undefined> {
    this.#defs.of(fn); // a bad task throws now, not at the first next()
    return streamPool(this, fn, args, options);
  }

  /** `Pool` for `flatMapOnPool` and `stream`: runs `fn(...args)` as a stream job whose values go to `sink` within the credits granted. */
  runStream<R>(fn: Task<StreamFn<any[], R>>, args: readonly unknown[], sink: StreamSink<R>, options?: RunStreamOptions): StreamControl {
    return openStream(sink, (slot, message) => this.#outbox.post(slot, message), (channel) => {
      if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array of arguments, got ${describe(args)}`);
      const { timeout, transfer } = checkSubmitOptions(options);
      return this.#enqueue(this.#defs.of(fn), args, false, channel.settle, timeout, transfer, undefined, channel);
    });
  }

  /** `Pool` for the operators: runs `fn(item)` for each item as one message. */
  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>, options?: RunBatchOptions): Cancel {
    try {
      if (!Array.isArray(items)) throw new TypeError(`Expected \`items\` to be an array, got ${describe(items)}`);
      return this.#enqueue(this.#defs.of(fn), items, true, callback as Settle, options?.timeout);
    } catch (error) {
      // Never call back synchronously, and not at all once cancelled.
      let cancelled = false;
      queueMicrotask(() => cancelled || callback(error as Error, undefined));
      return () => void (cancelled = true);
    }
  }

  /** `Pool`: how to feed `fn` to keep every worker busy (see pipeline.ts). */
  batching(fn: Task, chunksize?: number): Batching {
    let def: Definition;
    try {
      def = this.#defs.of(fn);
    } catch {
      return { concurrency: this.maxWorkers, chunksize: chunksize ?? 1 }; // runBatch reports the bad task
    }
    return batchingFor(def, this.maxWorkers, chunksize);
  }

  /**
   * Stops the pool. Later submits reject with `PoolShutdownError`; running tasks finish; queued
   * tasks run too unless `cancelPending`, which rejects them with `AbortError`. `force` (CPython
   * 3.14's `terminate_workers`) implies `cancelPending` and stops every worker at once: the tasks
   * they were running reject with `AbortError`. Idempotent.
   * @param options.wait Resolve only once every worker has exited. @default true
   * @param options.cancelPending Reject queued tasks instead of running them. @default false
   * @param options.force Also stop the workers now, whatever they are running. @default false
   */
  shutdown(options: { wait?: boolean; cancelPending?: boolean; force?: boolean } = {}): Promise<void> {
    const { wait = true, force = false, cancelPending = force } = options;
    for (const [name, value] of [['wait', wait], ['force', force], ['cancelPending', cancelPending]] as const) {
      if (typeof value !== 'boolean') throw new TypeError(`Expected \`${name}\` to be a boolean, got ${describe(value)}`);
    }
    if (force && options.cancelPending === false) throw new TypeError('`force` cancels pending tasks: it cannot be combined with `cancelPending: false`');
    if (this.#state === 'open') this.#state = 'closing';
    this.#exited ??= new Promise<void>((resolve) => (this.#resolveExited = resolve));
    if (cancelPending) this.#cancelPending();
    if (force) {
      for (const slot of this.#slots) {
        if (slot.phase >= SlotPhase.Killed) continue;
        const reason = new AbortError(`${this.#kind} was shut down with force while this task ran`);
        for (const job of slot.inflight.splice(0)) this.#finish(job, reason, undefined);
        this.#kill(slot);
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
    let workers = 0;
    let busy = 0;
    for (const slot of this.#slots) {
      if (!slot.inService) continue;
      workers++;
      if (slot.inflight.length > 0) busy++;
    }
    const uptime = performance.now() - this.#createdAt;
    return {
      state: this.#state === 'closing' && this.#slots.size === 0 && this.#queue.size === 0 ? 'closed' : this.#state,
      workers,
      busy,
      queued: this.#queue.size,
      completed: this.#tally.completed,
      failed: this.#tally.failed,
      cancelled: this.#tally.cancelled,
      busyTime: this.#tally.busyTime,
      uptime,
      utilization: uptime > 0 ? Math.min(1, this.#tally.busyTime / (this.maxWorkers * uptime)) : 0,
    };
  }

  // ── submission ────────────────────────────────────────────────────────────────────────────────

  /** Queues a job; arguments are already checked. Throws if the pool takes no more work. */
  #enqueue(
    def: Definition,
    payload: readonly unknown[],
    batch: boolean,
    settle: Settle,
    timeout: number | undefined,
    transfer?: TransferListItem[],
    signal?: AbortSignal,
    stream?: StreamChannel,
  ): Cancel {
    if (this.#state !== 'open') {
      throw this.#broken ?? new PoolShutdownError(`${this.#kind} has been shut down: it accepts no new tasks`);
    }
    if (signal?.aborted) throw new AbortError('The task was aborted before it was submitted', { cause: signal.reason });
    const job = new Job(this.#nextId++, def, payload, batch, settle, timeout ?? this.#options.taskTimeout, transfer, signal, stream);
    stream?.attach(job);
    if (signal) this.#signals.watch(signal, job);
    this.#queue.push(job);
    this.#pump();
    return (reason?: unknown) => {
      if (job.pending) this.#cancel(job, new AbortError('The task was cancelled', { cause: reason }), false);
    };
  }

  // ── dispatch ──────────────────────────────────────────────────────────────────────────────────

  #pump(): void {
    for (let job = this.#queue.peek(); job; job = this.#queue.peek()) {
      const slot = this.#pick(job);
      if (!slot) break;
      this.#queue.shift();
      this.#send(slot, job);
    }
    if (this.#state === 'closing' && this.#queue.size === 0) {
      for (const slot of this.#slots) if (slot.inService && slot.inflight.length === 0) this.#leave(slot);
      this.#checkExited();
    }
  }

  /**
   * Dispatches once the current burst is over (a cancellation, a stopped worker): a burst of N
   * cancellations is one pass, and a replacement worker never takes a job that is about to be
   * cancelled in the same burst.
   */
  #pumpSoon(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  /** An idle worker, else a new one, else the least loaded one with room in its pipeline. */
  #pick(job: Job): WorkerSlot | null {
    let best: WorkerSlot | null = null;
    let workers = 0;
    for (const slot of this.#slots) {
      if (!slot.inService) continue;
      workers++;
      if (!slot.takesWork || slot.tasks >= this.#options.maxTasksPerWorker) continue;
      if (slot.inflight.length === 0) return slot;
      // A stream holds its worker alone: its consumer may wait for other work before it pulls again.
      if (job.stream || slot.inflight[0]!.stream) continue;
      if (!best || slot.inflight.length < best.inflight.length) best = slot;
    }
    if (workers < this.maxWorkers && this.#state !== 'broken') return this.#startWorker();
    return best && best.inflight.length < depthFor(job.def, job.size) ? best : null;
  }

  /** Tells a worker of a function, once: a module's is Loading until the worker says it loaded. */
  #define(slot: WorkerSlot, def: Definition): void {
    slot.defs[def.key] = def.module ? DefState.Loading : DefState.Loaded;
    this.#outbox.post(slot, def.message);
  }

  #send(slot: WorkerSlot, job: Job): void {
    job.phase = JobPhase.Sent;
    job.slot = slot;
    job.seq = slot.sent++;
    slot.inflight.push(job);
    if (!slot.defs[job.def.key]) this.#define(slot, job.def);
    // The cell's previous job (seq − CLAIMS) is long settled: a worker holds at most MAX_DEPTH.
    if (slot.transport.claims) Atomics.store(slot.transport.claims, job.seq % CLAIMS, Claim.Free);
    const buffers = slot.transport.keepsBuffers ? undefined : bufferIndexes(job.payload);
    const message = (
      job.stream
        ? [Op.Stream, job.id, job.def.key, job.payload, job.seq, job.stream.credit]
        : [job.batch ? Op.Batch : Op.Run, job.id, job.def.key, job.payload, job.seq]
    ) as unknown[];
    if (buffers) message.push(buffers);
    this.#outbox.post(slot, message as unknown as ToWorker, job.transfer);
    slot.tasks += job.size;
    if (slot.tasks >= this.#options.maxTasksPerWorker) this.#drain(slot);
    if (slot.inflight.length === 1) {
      slot.idleTimer?.clear();
      slot.idleTimer = null;
      slot.transport.ref();
      this.#startHead(slot);
    }
  }

  /**
   * The head of a worker's pipeline is the job it is running: its timeout starts now (or once the
   * worker is ready: start-up and the initializer are not the task's time). A Held job at the head
   * may be running what nobody wants: a thread's claim says it started, so the worker is stopped;
   * a process is given HELD_HEAD_MS (or twice the job's measured time) to drop or answer it first.
   */
  #startHead(slot: WorkerSlot): void {
    slot.heldTimer?.clear();
    slot.heldTimer = null;
    const job = slot.inflight[0];
    if (!job) return;
    if (job.phase === JobPhase.Held) {
      if (slot.transport.claims) return this.#stillRunning(slot, job) ? this.#kill(slot) : undefined; // Done: its answer is on its way
      const bound = Math.max(HELD_HEAD_MS, 2 * (job.def.itemMs ?? 0) * job.size);
      slot.heldTimer = new Deadline(bound, () => this.#kill(slot));
      return;
    }
    if (slot.phase === SlotPhase.Starting || slot.defs[job.def.key] === DefState.Loading) {
      // Start-up (the initializer, a module's first import) has a bound of its own, not the task's.
      slot.startTimer ??= new Deadline(this.#options.startTimeout, () => this.#startTimedOut(slot));
      return;
    }
    slot.startTimer?.clear();
    slot.startTimer = null;
    slot.headSince = performance.now();
    if (job.timer || job.timeout === Infinity) return;
    const limit = job.timeout * job.size;
    const expire = () => {
      job.timer = null;
      this.#fail(slot, job, new TaskTimeoutError(`Task ${job.def.name} timed out after ${limit} ms; its worker was replaced`, limit));
    };
    job.timer = job.stream ? job.stream.deadline(limit, expire) : new Deadline(limit, expire);
  }

  /** Removes `slot.inflight[index]`: the next job becomes the head if it was the head; the worker goes idle if it holds nothing. */
  #release(slot: WorkerSlot, index: number): void {
    slot.inflight.splice(index, 1);
    this.#afterRelease(slot, index === 0);
  }

  #afterRelease(slot: WorkerSlot, wasHead: boolean): void {
    if (wasHead) this.#startHead(slot);
    if (slot.inflight.length === 0 && slot.inService) this.#idle(slot);
  }

  #idle(slot: WorkerSlot): void {
    slot.transport.unref();
    if (slot.phase === SlotPhase.Draining || (this.#state === 'closing' && this.#queue.size === 0)) return this.#leave(slot);
    if (this.#options.idleTimeout !== Infinity) slot.idleTimer = new Deadline(this.#options.idleTimeout, () => this.#leave(slot));
    if (this.#queue.size === 0) this.#steal();
  }

  // ── answers ───────────────────────────────────────────────────────────────────────────────────

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    switch (message[0]) {
      case Op.Ready:
        return this.#onReady(slot);
      case Op.Cancelled:
        return this.#onDropped(slot, message[1]);
      case Op.Yield:
        return receive(slot, message);
      case Op.Ok:
        return this.#answer(slot, message[1], message[3], undefined, message[4] ? asBuffer(message[2]) : message[2]);
      case Op.Err:
        return this.#answer(slot, message[1], message[3], deserializeError(message[2]), undefined);
      case Op.BatchDone: {
        const [, id, values, errors, ms, buffers] = message;
        restoreBuffers(values, buffers);
        const result: BatchResult<unknown> = errors ? { values, errors: errors.map((e) => e && deserializeError(e)) } : { values };
        return this.#answer(slot, id, ms, undefined, result);
      }
      case Op.InitFailed:
        return this.#break(
          new BrokenPoolError(`The initializer of ${this.#kind} threw, so no worker can run tasks: ${message[1].message}`, {
            cause: deserializeError(message[1]),
          }),
        );
      case Op.Escaped:
        return this.#onEscaped(slot, deserializeError(message[1]), message[2], message[3]);
      case Op.Loaded:
        slot.defs[message[1]] = DefState.Loaded;
        if (slot.inflight[0]?.def.key === message[1]) this.#startHead(slot);
        return;
      default:
        throw unknownMessage('pool', message);
    }
  }

  #onReady(slot: WorkerSlot): void {
    if (slot.phase === SlotPhase.Starting) slot.phase = slot.tasks >= this.#options.maxTasksPerWorker ? SlotPhase.Draining : SlotPhase.Ready;
    this.#startupFailures = 0;
    slot.startTimer?.clear();
    slot.startTimer = null;
    this.#startHead(slot);
  }

  /**
   * An error escaped every task (a throw in a timer, an unhandled rejection). If the task whose
   * code threw it is still running, that task fails with WorkerCrashedError and its worker is
   * replaced (its promise may never settle). Otherwise no task is to blame: the error goes to
   * `onEscapedError`, and the worker, whose state is in doubt, leaves once it is idle.
   */
  #onEscaped(slot: WorkerSlot, error: Error, task: { id: number; name: string } | null, running: boolean): void {
    const index = running && task ? slot.indexOf(task.id) : -1;
    const job = slot.inflight[index];
    if (job?.pending) {
      slot.inflight.splice(index, 1);
      const crash = new WorkerCrashedError(`An error escaped task ${job.def.name} while it ran, so its worker was replaced: ${error.message}`, null, null, {
        cause: error,
      });
      this.#finish(job, crash, undefined);
      return this.#kill(slot);
    }
    this.#options.onEscapedError(error, task?.name);
    this.#drain(slot);
    if (slot.inflight.length === 0 && slot.inService) this.#idle(slot);
  }

  #answer(slot: WorkerSlot, id: number, ms: number, error: Error | undefined, value: unknown): void {
    const index = slot.indexOf(id);
    if (index < 0) return; // its worker was replaced meanwhile
    const job = slot.inflight[index]!;
    if (slot.phase === SlotPhase.Starting) this.#onReady(slot);
    if (job.phase === JobPhase.Closing) error ??= job.recallReason; // closed as its consumer asked
    measure(job.def, ms, job.size);
    this.#tally.busyTime += ms;
    // Out of the pipeline first, settled next (its caller may submit more, to this very worker),
    // and only then is the worker's next head started or the worker idled.
    slot.inflight.splice(index, 1);
    this.#finish(job, error, value);
    this.#afterRelease(slot, index === 0);
    // Refill a pipelined worker only once it has drained to half its depth, so refills travel
    // many tasks to a frame rather than one.
    if (slot.inflight.length <= depthFor(job.def, job.size) >> 1) this.#pump();
  }

  /** The worker dropped a job it was asked back (Cancel) before starting it. */
  #onDropped(slot: WorkerSlot, id: number): void {
    const index = slot.indexOf(id);
    if (index < 0) return;
    const job = slot.inflight[index]!;
    this.#release(slot, index);
    if (job.phase === JobPhase.Recalling || job.phase === JobPhase.Closing) {
      if (job.recallReason) this.#finish(job, job.recallReason, undefined);
      else this.#requeue([job]); // stolen: another worker runs it
    } else {
      this.#finish(job, undefined, undefined); // Held: its caller was settled already
    }
    this.#pump();
  }

  /** Settles a job for its caller and takes it out of the pool's books. `notify: false`: its caller asked not to be called back. */
  #finish(job: Job, error: Error | undefined, value: unknown, notify = true): void {
    const settled = job.phase === JobPhase.Held;
    job.phase = JobPhase.Done;
    job.slot = null;
    job.timer?.clear();
    job.timer = null;
    if (settled) return; // counted and reported when it was held
    if (job.signal) this.#signals.unwatch(job.signal, job);
    this.#tally.count(job.size, job.batch, error, value);
    if (notify) job.settle(error, value);
  }

  /** Settles a job for its caller while it stays in its worker's pipeline, because it may have started (see JobPhase.Held). */
  #hold(job: Job, error: AbortError, notify: boolean): void {
    const slot = job.slot;
    this.#finish(job, error, undefined, notify);
    job.phase = JobPhase.Held;
    job.slot = slot;
  }

  // ── cancellation ──────────────────────────────────────────────────────────────────────────────

  /** Cancels a job for its caller: a queued job never runs; a sent one is withdrawn. */
  #cancel(job: Job, error: AbortError, notify: boolean): void {
    if (job.phase === JobPhase.Queued) {
      this.#queue.forget();
      this.#finish(job, error, undefined, notify);
    } else if (job.phase === JobPhase.Sent || job.phase === JobPhase.Recalling) {
      this.#withdraw(job, error, notify);
    } else {
      return; // Held or Done: settled already
    }
    this.#pumpSoon();
  }

  /**
   * Withdraws a job a worker holds. If it has not started it never will: a thread's is taken back
   * through its claim cell, at once; a process is sent Cancel and the job is held until the worker
   * drops it or answers it. Only a job that really runs costs its worker: the head of a ready
   * worker (a thread's claim says it started; a process is running it), or a held job that turns
   * out to run when it reaches the head (see #startHead).
   */
  #withdraw(job: Job, error: AbortError, notify: boolean): void {
    const slot = job.slot!;
    const index = slot.inflight.indexOf(job);
    if (this.#takeBack(slot, job)) {
      this.#release(slot, index);
      this.#finish(job, error, undefined, notify);
      return;
    }
    if (job.stream) return this.#close(slot, job, error);
    const wasRecalling = job.phase === JobPhase.Recalling;
    this.#hold(job, error, notify);
    if (index === 0 && slot.phase !== SlotPhase.Starting && this.#stillRunning(slot, job)) return this.#kill(slot);
    if (!slot.transport.claims && !wasRecalling) this.#outbox.post(slot, [Op.Cancel, job.id]);
    if (index === 0) this.#startHead(slot);
  }

  /** A stream its consumer left: its worker returns the iterator (finally blocks run) and answers, or is stopped after STREAM_CLOSE_MS. */
  #close(slot: WorkerSlot, job: Job, reason: AbortError): void {
    job.phase = JobPhase.Closing;
    job.recallReason = reason;
    job.timer?.clear();
    job.timer = new Deadline(STREAM_CLOSE_MS, () => this.#kill(slot));
    this.#outbox.post(slot, [Op.Close, job.id]);
  }

  /** Whether a job that started is still running: a thread's claim cell says so (Done once it answered); a process's head is taken to be. */
  #stillRunning(slot: WorkerSlot, job: Job): boolean {
    const claims = slot.transport.claims;
    return claims === undefined || Atomics.load(claims, job.seq % CLAIMS) !== Claim.Done;
  }

  /** Threads: claims a job that has not started, so the worker skips it. False if it started (or on a process). */
  #takeBack(slot: WorkerSlot, job: Job): boolean {
    const claims = slot.transport.claims;
    return claims !== undefined && Atomics.compareExchange(claims, job.seq % CLAIMS, Claim.Free, Claim.Taken) === Claim.Free;
  }

  /** Asks a process worker for a job back (Cancel): requeued if dropped (`reason` undefined: a steal), else rejected with `reason`. */
  #recall(slot: WorkerSlot, job: Job, reason: AbortError | undefined): void {
    if (job.phase === JobPhase.Sent) this.#outbox.post(slot, [Op.Cancel, job.id]);
    job.phase = JobPhase.Recalling;
    job.recallReason = reason;
  }

  /** shutdown({ cancelPending }): rejects every task that has not started, and only those. */
  #cancelPending(): void {
    const reason = () => new AbortError(`${this.#kind} was shut down with cancelPending before this task started`);
    for (let job = this.#queue.shift(); job; job = this.#queue.shift()) this.#finish(job, reason(), undefined);
    // Tasks sent to a worker that have not started: a thread's are taken back at once; a process
    // is asked, and a task it has already run (or is running) keeps its result.
    for (const slot of this.#slots) {
      for (let i = slot.inflight.length - 1; i >= 1; i--) {
        const job = slot.inflight[i]!;
        if (!job.pending) continue;
        if (this.#takeBack(slot, job)) {
          slot.inflight.splice(i, 1);
          this.#finish(job, reason(), undefined);
        } else if (!slot.transport.claims) {
          this.#recall(slot, job, reason());
        }
      }
    }
  }

  /**
   * A worker went idle with nothing queued while another holds jobs behind one that has run far
   * longer than measured (a "fast" function met a slow item): take those back for idle workers.
   * Threads take them back at once (claims); a process is asked (Cancel) and returns them when its
   * current task ends, since it reads no message while a task blocks it.
   */
  #steal(): void {
    this.#stealTimer?.clear();
    this.#stealTimer = null;
    if (this.#queue.size > 0 || this.#state === 'broken') return;
    const now = performance.now();
    let wait = Infinity;
    for (const slot of this.#slots) {
      const head = slot.inflight[0];
      if (!head || slot.inflight.length < 2 || slot.phase !== SlotPhase.Ready) continue;
      const left = slot.headSince + stallMs(head.def, head.size) - now;
      if (left > 0) {
        wait = Math.min(wait, left);
        continue;
      }
      const taken: Job[] = [];
      for (let i = slot.inflight.length - 1; i >= 1; i--) {
        const job = slot.inflight[i]!;
        if (job.phase !== JobPhase.Sent) continue;
        if (this.#takeBack(slot, job)) {
          slot.inflight.splice(i, 1);
          taken.unshift(job);
        } else if (!slot.transport.claims) {
          this.#recall(slot, job, undefined);
        }
      }
      this.#requeue(taken);
    }
    if (wait !== Infinity) this.#stealTimer = new Deadline(wait, () => this.#steal());
    if (this.#queue.size > 0) this.#pump();
  }

  /**
   * Puts jobs a worker held back at the front of the queue, in order, as they never started: settled
   * ones are dropped, and one recalled to be rejected (cancelPending) is rejected now.
   */
  #requeue(held: readonly Job[]): void {
    const jobs: Job[] = [];
    for (const job of held) {
      if (!job.pending) continue;
      if ((job.phase === JobPhase.Recalling || job.phase === JobPhase.Closing) && job.recallReason) this.#finish(job, job.recallReason, undefined);
      else jobs.push(job);
    }
    for (const job of jobs) {
      job.phase = JobPhase.Queued;
      job.slot = null;
      job.recallReason = undefined;
      job.timer?.clear();
      job.timer = null;
    }
    this.#queue.unshiftAll(jobs);
  }

  // ── faults ────────────────────────────────────────────────────────────────────────────────────

  /** The running job failed in a way that costs its worker (timeout): it is settled, the worker stopped. */
  #fail(slot: WorkerSlot, job: Job, error: Error): void {
    slot.inflight.splice(slot.inflight.indexOf(job), 1);
    this.#finish(job, error, undefined);
    this.#kill(slot);
  }

  /** A message could not be cloned: the job it carried fails with DataCloneError, the others went out. */
  #cloneFailed(slot: WorkerSlot, message: ToWorker, error: unknown): void {
    const index = slot.indexOf(message[1] as number);
    if (index < 0 || !carriesTask(message)) return;
    const job = slot.inflight[index]!;
    const what = job.batch ? 'An item' : 'An argument';
    this.#release(slot, index);
    this.#finish(job, new DataCloneError(`${what} of task ${job.def.name} could not be sent to the worker: ${(error as Error).message}`, { cause: error }), undefined);
  }

  #break(error: BrokenPoolError): void {
    if (this.#state === 'broken') return;
    this.#state = 'broken';
    this.#broken = error;
    this.#exited ??= new Promise<void>((resolve) => (this.#resolveExited = resolve));
    for (let job = this.#queue.shift(); job; job = this.#queue.shift()) this.#finish(job, error, undefined);
    for (const slot of this.#slots) {
      for (const job of slot.inflight.splice(0)) if (job.pending) this.#finish(job, error, undefined);
      if (slot.phase < SlotPhase.Killed) this.#kill(slot);
    }
    this.#checkExited();
  }

  // ── worker lifecycle ──────────────────────────────────────────────────────────────────────────

  #startWorker(): WorkerSlot | null {
    const slot = new WorkerSlot();
    try {
      slot.transport = this.#spawn(
        { entry: workerEntry, init: this.#initDef !== undefined },
        {
          message: (message) => this.#onMessage(slot, message),
          exit: (code, signal, error) => this.#onExit(slot, code, signal, error),
          closed: () => {
            // Forgotten only once nothing of it is left in this process (shutdown waits for that).
            this.#slots.delete(slot);
            this.#checkExited();
          },
        },
      );
    } catch (error) {
      // new Worker() / fork() refused outright (resources, arguments): retrying cannot help.
      this.#break(new BrokenPoolError(`${this.#kind} cannot start a worker: ${(error as Error).message}`, { cause: error }));
      return null;
    }
    this.#slots.add(slot);
    if (this.#initDef) {
      this.#define(slot, this.#initDef);
      this.#outbox.post(slot, [Op.Init, this.#initDef.key, this.#options.initArgs]);
    }
    slot.startTimer = new Deadline(this.#options.startTimeout, () => this.#startTimedOut(slot));
    return slot;
  }

  /** Takes no more work; leaves once it holds nothing. (A starting worker drains once ready: see #onReady.) */
  #drain(slot: WorkerSlot): void {
    if (slot.phase === SlotPhase.Ready) slot.phase = SlotPhase.Draining;
  }

  /** Out of service, asked to exit: it leaves by itself once its pending I/O is done (a log line, tsx's cache write); one that something keeps alive (a task's leftover timer or socket) is stopped after a grace. */
  #leave(slot: WorkerSlot): void {
    if (!slot.inService) return;
    slot.phase = SlotPhase.Leaving;
    slot.clearTimers();
    // Keep the process alive until the worker is gone, so `await pool.shutdown()` can resolve.
    slot.transport.ref();
    this.#outbox.post(slot, [Op.Exit]);
    slot.graceTimer = new Deadline(EXIT_GRACE_MS, () => this.#kill(slot));
    this.#pumpSoon();
  }

  /** Stops a worker at once. The jobs it held behind the one running (settled by now) go back to the front of the queue. */
  #kill(slot: WorkerSlot): void {
    if (slot.phase >= SlotPhase.Killed) return;
    slot.phase = SlotPhase.Killed;
    slot.clearTimers();
    slot.transport.ref();
    this.#requeue(slot.inflight.splice(0));
    slot.transport.kill();
    this.#pumpSoon();
  }

  #onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    const diedOnItsOwn = slot.inService;
    const wasReady = slot.phase !== SlotPhase.Starting;
    slot.phase = SlotPhase.Gone;
    slot.clearTimers();
    if (diedOnItsOwn) {
      const held = slot.inflight.splice(0);
      const cause = error;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!wasReady) {
        this.#requeue(held);
        this.#startupFailed(how, cause);
      } else if (held.length > 0) {
        // The first job it held was running; the others never started and go back to the queue.
        // (A Held job at the front was running too: nobody waits for it.)
        const [running, ...waiting] = held as [Job, ...Job[]];
        this.#requeue(waiting);
        if (running.pending) {
          const detail = cause ? `: ${cause.message}` : '';
          this.#finish(running, new WorkerCrashedError(`The worker running task ${running.def.name} ${how}${detail}`, code, signal, { cause }), undefined);
        } else {
          this.#finish(running, undefined, undefined);
        }
      }
    }
    this.#pump();
  }

  /** A worker died or hung before it was ready: after MAX_STARTUP_FAILURES in a row the pool is broken (the first one's cause). */
  #startupFailed(how: string, cause: unknown): void {
    if (++this.#startupFailures === 1) this.#firstStartupFailure = cause ?? new Error(`The first worker ${how}`);
    if (this.#startupFailures < MAX_STARTUP_FAILURES) return;
    this.#break(
      new BrokenPoolError(`${this.#kind} workers keep dying during start-up (${this.#startupFailures} in a row; the last ${how}), so no more are started`, {
        cause: this.#firstStartupFailure,
      }),
    );
  }

  /**
   * Start-up took longer than `startTimeout`. An initializer that never finishes breaks the pool
   * (every worker would hang the same way); a worker that never came up counts as one that died
   * during start-up; a module whose import never finishes fails the tasks waiting for it (with
   * TaskTimeoutError) and costs the worker, so `shutdown` is never held up by it.
   */
  #startTimedOut(slot: WorkerSlot): void {
    slot.startTimer = null;
    const limit = this.#options.startTimeout;
    if (slot.phase === SlotPhase.Starting) {
      if (this.#initDef) {
        const name = this.#initDef.name;
        return this.#break(new BrokenPoolError(`The initializer ${name} of ${this.#kind} did not finish within startTimeout (${limit} ms), so no worker can run tasks`));
      }
      this.#kill(slot);
      return this.#startupFailed(`did not start within startTimeout (${limit} ms)`, undefined);
    }
    const importing = slot.inflight[0]?.def;
    if (!importing) return;
    for (let i = slot.inflight.length - 1; i >= 0; i--) {
      const job = slot.inflight[i]!;
      if (job.def !== importing || !job.pending) continue;
      slot.inflight.splice(i, 1);
      const message = `Task ${importing.name} could not start: importing its module did not finish within startTimeout (${limit} ms); its worker was replaced`;
      this.#finish(job, new TaskTimeoutError(message, limit), undefined);
    }
    this.#kill(slot);
  }

  #checkExited(): void {
    if (this.#state !== 'open' && this.#slots.size === 0 && this.#queue.size === 0) this.#resolveExited?.();
  }
}
