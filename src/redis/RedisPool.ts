/**
 * A `Pool` whose workers are on other machines: each batch is one BullMQ job in Redis, run by any
 * worker host (`rxjs-pools worker --redis URL --queue NAME`) on its local ThreadPool or
 * ProcessPool. BullMQ owns the jobs, their locks and stall recovery (at-least-once delivery); this
 * class adds the executor semantics on top: the first outcome of each job wins (exactly-once
 * output), order (through `map` and the operators), cancellation, deadlines and shutdown.
 *
 * Results are read through ONE `QueueEvents` listener (BullMQ's maintainers advise against
 * `job.waitUntilFinished`, which loses or hangs on results under load). A finished job stays in
 * Redis until this pool has read its outcome, then the pool removes it; an outcome whose event
 * was trimmed from the stream before it was read is fetched from the job itself.
 */

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AbortError, BrokenPoolError, DataCloneError, PoolError, PoolShutdownError, WorkerLostError } from '../errors.ts';
import type { AnyFn, BatchCallback, BatchResult, Batching, Cancel, MapOptions, Pool, PoolStats, RunBatchOptions, SubmitOptions, Task } from '../pools/Pool.ts';
import { expectDuration } from '../pools/options.ts';
import { describe } from '../pools/task.ts';
import { mapPool } from '../pools/map.ts';
import { CODEC_VERSION, decode, encode, toBase64, unwireError, type JobData, type Outcome, type TaskSpec } from './codec.ts';
import { createClient, describeConnectionError, isAuthError } from './connection.ts';
import { deps, type BullMQ, type Redis } from './deps.ts';
import { validateRedisPoolOptions, type RedisPoolOptions, type ResolvedRedisPoolOptions } from './options.ts';
import { specOf } from './tasks.ts';

/** A part (one `submit` or `runBatch`): waiting here, sent in a job, or settled. */
const LOCAL = 0;
const SENT = 1;
const DONE = 2;
/** A job in Redis: being added, waiting for a host, running on one. */
const ADDING = 0;
const WAITING = 1;
const ACTIVE = 2;

/** BullMQ's failedReason when the stalled checker gives up on a job. */
const STALLED_REASON = 'job stalled more than allowable limit';
/** How often jobs without news are looked up in Redis (a missed or trimmed event, data lost). */
const RECONCILE_MS = 3_000;
/** How often the number of worker hosts on the queue is refreshed for `stats.workers`. */
const WORKERS_MS = 2_000;
/** Shutdown waits this long for withdrawn jobs that were running to end, so they can be removed. */
const ZOMBIE_GRACE_MS = 10_000;
/** A job's work that amortises BullMQ's per-job cost (a few Lua round trips, ~0.3 ms) … */
const JOB_TARGET_MS = 25;
/** … within these bounds on items … */
const MAX_CHUNK = 4096;
/** … and bytes per job. */
const CHUNK_BYTES = 1 << 20;
/** Orphans (a pool that died before reading them) are removed by BullMQ after a day. */
const ORPHAN_AGE_S = 24 * 3600;

type Settle = (error: Error | undefined, value: unknown) => void;

function noop(): void {}

/** What the caller submitted: one call (`submit`) or one batch (`runBatch`). Batches of the same task may share a job. */
class Part {
  state = LOCAL;
  job: Job | null = null;
  onAbort: (() => void) | null = null;
  /** Never merged with others (its merged job could not be encoded). */
  solo = false;
  constructor(
    readonly spec: TaskSpec,
    readonly key: string,
    readonly mode: 'run' | 'batch',
    readonly payload: readonly unknown[],
    readonly timeout: number | undefined,
    public settle: Settle,
    readonly signal: AbortSignal | undefined,
  ) {}
  get size(): number {
    return this.mode === 'batch' ? this.payload.length : 1;
  }
}

/** One BullMQ job: one or more parts, their items in one payload. */
class Job {
  state = ADDING;
  /** When the add was acknowledged (for the reconcile). */
  addedAt = 0;
  /** Parts not settled yet. */
  live: number;
  /** This pool is removing it (its 'removed' event is expected). */
  removing = false;
  constructor(
    readonly id: string,
    readonly parts: readonly Part[],
    readonly data: JobData,
    readonly bytes: number,
  ) {
    this.live = parts.length;
  }
  get size(): number {
    return this.data.size;
  }
}

interface Measure {
  /** Milliseconds per item on a host (moving average). */
  ms: number;
  /** Bytes per item, arguments or results, whichever is larger. */
  bytes: number;
  /** Items a job should carry, from the two above. */
  preferred: number;
}

/** What a worker host did for this pool. */
export interface HostStats {
  readonly jobs: number;
  readonly items: number;
  /** Milliseconds its local pool spent on this pool's jobs. */
  readonly busyTime: number;
}

/**
 * Python's executor over a cluster (Dask's `get_executor`, Ray's `Pool`), on BullMQ: the same
 * `submit`, lazy ordered `map`, `shutdown` and `Pool` interface as `ThreadPool`, the work spread
 * over every worker host listening on the queue.
 *
 * Batches (`runBatch`, so `map` and the operators) of the same task that wait here together go to
 * Redis as one job of up to the measured {@link RedisPool.batching} size: a few Lua round trips
 * per job are amortised over its items even when the operator sends one item per batch.
 *
 * @example
 * ```ts
 * import { RedisPool } from 'rxjs-pools/redis';
 * await using pool = new RedisPool({ connection: 'redis://127.0.0.1:6379', queue: 'etl' });
 * for await (const y of pool.map(digest, records)) console.log(y);
 * ```
 */
export class RedisPool implements Pool, AsyncDisposable {
  /** Jobs kept in flight (`maxInFlight`): the operators' default concurrency. */
  readonly maxWorkers: number;
  readonly #options: ResolvedRedisPoolOptions;
  readonly #poolId = `rp${randomBytes(6).toString('hex')}`;
  #seq = 0;
  /** Parts waiting here for room in Redis (a deque: merged parts that fail go back to the front). */
  #local: (Part | undefined)[] = [];
  #localHead = 0;
  #localSize = 0;
  /** Jobs in Redis that this pool still waits for. */
  readonly #jobs = new Map<string, Job>();
  #toAdd: Job[] = [];
  #flushScheduled = false;
  /** Withdrawn jobs that may still be in Redis, to remove once they end. */
  readonly #zombies = new Set<string>();
  readonly #specs = new Map<unknown, TaskSpec>();
  /** Task → its measures' key, for batching(). */
  readonly #keys = new Map<unknown, string>();
  /** batching()'s answers, per task key, while its preferred size stays the same. */
  readonly #hints = new Map<string, { preferred: number; byChunksize: Map<number, Batching> }>();
  readonly #measures = new Map<string, Measure>();
  readonly #hosts = new Map<string, { jobs: number; items: number; busyTime: number }>();
  #state: 'open' | 'closing' | 'closed' | 'broken' = 'open';
  #broken: BrokenPoolError | undefined;
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  #busyTime = 0;
  #redelivered = 0;
  #workers = 0;
  readonly #createdAt = performance.now();
  // connection
  #client: Redis | undefined;
  #queue: BullMQ.Queue | undefined;
  #events: BullMQ.QueueEvents | undefined;
  #connecting: Promise<void> | undefined;
  #connected = false;
  #lastError: Error | undefined;
  #downTimer: NodeJS.Timeout | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  #workersTimer: NodeJS.Timeout | undefined;
  #reconciling = false;
  #closed: Promise<void> | undefined;
  #disconnecting = false;
  #idle: (() => void) | undefined;

  constructor(options: RedisPoolOptions) {
    this.#options = validateRedisPoolOptions(options);
    this.maxWorkers = this.#options.maxInFlight;
  }

  /** This pool's id: its BullMQ job ids are `${id}-1`, `${id}-2`, … */
  get id(): string {
    return this.#poolId;
  }

  /** `redis://host:port/db` of the server, without credentials. */
  get address(): string {
    return this.#options.connection.address;
  }

  /** The queue's name. */
  get queue(): string {
    return this.#options.queue;
  }

  /**
   * Runs `fn(...args)` on a worker host.
   * @returns The task's return value, or its error with class, message, code, cause, own fields
   * and remote stack kept.
   */
  submit<F extends AnyFn>(fn: Task<F>, args: Parameters<F>, options?: SubmitOptions): Promise<Awaited<ReturnType<F>>> {
    return new Promise((resolve, reject) => {
      try {
        if (!Array.isArray(args)) throw new TypeError(`Expected \`args\` to be an array of arguments, got ${describe(args)}`);
        const { signal, timeout } = checkSubmitOptions(options);
        const settle: Settle = (error, value) => (error ? reject(error) : resolve(value as Awaited<ReturnType<F>>));
        this.#enqueue(fn, 'run', args, settle, timeout, signal);
      } catch (error) {
        reject(error);
      }
    });
  }

  /** `Pool` for the operators: runs `fn(item)` for each item, in one job (maybe with other batches of `fn`). */
  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>, options?: RunBatchOptions): Cancel {
    try {
      if (!Array.isArray(items)) throw new TypeError(`Expected \`items\` to be an array, got ${describe(items)}`);
      const timeout = options?.timeout === undefined ? undefined : expectDuration('timeout', options.timeout);
      return this.#enqueue(fn, 'batch', items, callback as Settle, timeout, undefined);
    } catch (error) {
      let cancelled = false;
      queueMicrotask(() => cancelled || callback(error as Error, undefined));
      return () => void (cancelled = true);
    }
  }

  /**
   * The feeding this pool prefers for `fn`: `maxInFlight` jobs, each carrying enough items that
   * BullMQ's per-job cost is amortised (about 25 ms of measured work, at most 4096 items or 1 MiB;
   * one item until the task has been measured, so slow tasks spread over every host). Asked for a
   * fixed `chunksize`, it says how many batches of that size fill those jobs: the pool merges them.
   */
  batching(fn: Task, chunksize?: number): Batching {
    // Called for every settled batch by the operators: map lookups and a cached answer.
    let key = this.#keys.get(fn);
    if (key === undefined) {
      try {
        key = specKey(specOf(fn, this.#options.root, this.#specs));
        this.#keys.set(fn, key);
      } catch {
        key = ''; // a bad task fails at runBatch, with its error
      }
    }
    const preferred = this.#measures.get(key)?.preferred ?? 1;
    const cacheKey = chunksize ?? 0;
    let cached = this.#hints.get(key);
    if (cached?.preferred !== preferred) this.#hints.set(key, (cached = { preferred, byChunksize: new Map() }));
    let hint = cached.byChunksize.get(cacheKey);
    if (!hint) {
      hint =
        chunksize === undefined
          ? { concurrency: this.maxWorkers, chunksize: preferred }
          : { concurrency: this.maxWorkers * Math.max(1, Math.ceil(preferred / chunksize)), chunksize };
      cached.byChunksize.set(cacheKey, hint);
    }
    return hint;
  }

  /** Items a job of this task should carry, from what its jobs measured. */
  #preferred(key: string): number {
    return this.#measures.get(key)?.preferred ?? 1;
  }

  /** About JOB_TARGET_MS of work, within MAX_CHUNK items and CHUNK_BYTES. */
  #preference(ms: number, bytes: number): number {
    const byTime = ms > 0 ? Math.ceil(JOB_TARGET_MS / ms) : MAX_CHUNK;
    const byBytes = Math.max(1, Math.floor(Math.min(CHUNK_BYTES, this.#options.maxPayloadBytes) / Math.max(1, bytes)));
    return Math.max(1, Math.min(MAX_CHUNK, byTime, byBytes));
  }

  /**
   * Runs `fn(item)` for each item and yields the results in input order, lazily (at most
   * `buffersize` items read ahead); the first failed item's error is thrown after every earlier
   * result; leaving the loop cancels what is pending. `chunksize` defaults to `'auto'` here: jobs
   * sized by {@link RedisPool.batching}.
   */
  map<F extends (value: any) => unknown>(
    fn: Task<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options: MapOptions = {},
  ): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined> {
    if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
    specOf(fn, this.#options.root, this.#specs); // a bad task throws now, not at the first batch
    return mapPool(this, fn, iterable, { ...options, chunksize: options.chunksize ?? 'auto' });
  }

  /**
   * Stops the pool. Later submits reject with `PoolShutdownError`; jobs already in Redis run to
   * the end unless `cancelPending`, which removes those no host has started (they reject with
   * `AbortError`; one already running keeps its result). Resolves once every pending job has
   * settled and the connections are closed. Idempotent.
   * @param options.wait Resolve only once everything has settled and closed. @default true
   * @param options.cancelPending Remove what no host has started. @default false
   */
  shutdown(options: { wait?: boolean; cancelPending?: boolean } = {}): Promise<void> {
    const { wait = true, cancelPending = false } = options;
    if (typeof wait !== 'boolean') throw new TypeError(`Expected \`wait\` to be a boolean, got ${describe(wait)}`);
    if (typeof cancelPending !== 'boolean') throw new TypeError(`Expected \`cancelPending\` to be a boolean, got ${describe(cancelPending)}`);
    if (this.#state === 'open') this.#state = 'closing';
    if (cancelPending) {
      const reason = () => new AbortError('RedisPool was shut down with cancelPending before this task started');
      for (const part of this.#localParts()) this.#cancel(part, reason());
      for (const job of [...this.#jobs.values()]) {
        if (job.state === ADDING) for (const part of job.parts) this.#cancel(part, reason());
        else if (job.state === WAITING) void this.#removeWaiting(job, reason);
      }
    }
    this.#closed ??= this.#closeWhenIdle();
    return wait ? this.#closed : Promise.resolve();
  }

  /** `await using pool = new RedisPool(…)` shuts it down (and waits) at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /**
   * A snapshot. `workers`: BullMQ workers connected to the queue (refreshed every 2 s); `busy`:
   * this pool's tasks in jobs a host is running; `queued`: its tasks waiting here or in Redis.
   */
  get stats(): PoolStats {
    const uptime = performance.now() - this.#createdAt;
    let busy = 0;
    let waiting = 0;
    for (const job of this.#jobs.values()) {
      if (job.state === ACTIVE) busy += job.live;
      else waiting += job.live;
    }
    return {
      state: this.#state,
      workers: this.#workers,
      busy,
      queued: this.#localSize + waiting,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      busyTime: this.#busyTime,
      uptime,
      utilization: uptime > 0 ? Math.min(1, this.#busyTime / (this.maxWorkers * uptime)) : 0,
    };
  }

  /** Per worker host (its `--name`, default `hostname:pid`): what it ran for this pool. */
  get hosts(): ReadonlyMap<string, HostStats> {
    return new Map([...this.#hosts].map(([name, s]) => [name, { ...s }]));
  }

  /** Jobs BullMQ handed to another host after the one running them stalled (died, lost its lock). */
  get redelivered(): number {
    return this.#redelivered;
  }

  // ── submission ────────────────────────────────────────────────────────────────────────────────

  #enqueue(fn: unknown, mode: 'run' | 'batch', payload: readonly unknown[], settle: Settle, timeout: number | undefined, signal: AbortSignal | undefined): Cancel {
    if (this.#state !== 'open') {
      throw this.#broken ?? new PoolShutdownError('RedisPool has been shut down: it accepts no new tasks');
    }
    if (signal?.aborted) throw new AbortError('The task was aborted before it was submitted', { cause: signal.reason });
    const spec = specOf(fn, this.#options.root, this.#specs);
    const limit = timeout ?? this.#options.taskTimeout;
    const part = new Part(spec, specKey(spec), mode, payload, limit === Infinity ? undefined : limit, settle, signal);
    if (signal) {
      part.onAbort = () => this.#cancel(part, new AbortError('The task was aborted', { cause: signal.reason }));
      signal.addEventListener('abort', part.onAbort, { once: true });
    }
    this.#local.push(part);
    this.#localSize++;
    this.#pump();
    return (reason?: unknown) => {
      if (part.state === DONE) return;
      part.settle = noop;
      this.#cancel(part, new AbortError('The task was cancelled', { cause: reason }));
    };
  }

  /** The next part waiting here (skipping settled ones), without taking it. */
  #peekLocal(): Part | undefined {
    while (this.#localHead < this.#local.length) {
      const part = this.#local[this.#localHead];
      if (part && part.state === LOCAL) return part;
      this.#local[this.#localHead++] = undefined;
    }
    return undefined;
  }

  #takeLocal(): Part {
    const part = this.#local[this.#localHead]!;
    this.#local[this.#localHead++] = undefined;
    this.#localSize--;
    return part;
  }

  #localParts(): Part[] {
    const parts: Part[] = [];
    for (let i = this.#localHead; i < this.#local.length; i++) {
      const part = this.#local[i];
      if (part && part.state === LOCAL) parts.push(part);
    }
    return parts;
  }

  /**
   * Moves waiting parts to Redis while fewer than maxInFlight jobs are there. Consecutive batches
   * of one task (same timeout) share a job, up to the task's preferred size.
   */
  #pump(): void {
    if (this.#state === 'broken') return;
    while (this.#jobs.size < this.maxWorkers) {
      const first = this.#peekLocal();
      if (!first) break;
      this.#takeLocal();
      const parts = [first];
      let size = first.size;
      if (first.mode === 'batch' && !first.solo) {
        const target = this.#preferred(first.key);
        for (let next = this.#peekLocal(); next && size < target; next = this.#peekLocal()) {
          if (next.mode !== 'batch' || next.solo || next.key !== first.key || next.timeout !== first.timeout || size + next.size > target) break;
          parts.push(this.#takeLocal());
          size += next.size;
        }
      }
      this.#send(parts, size);
    }
    if (this.#localHead > 1024 && this.#localHead * 2 > this.#local.length) {
      this.#local = this.#local.slice(this.#localHead);
      this.#localHead = 0;
    }
    if (this.#toAdd.length > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      // Everything sent in this tick goes to Redis in one addBulk (one round trip).
      queueMicrotask(() => void this.#flush());
    }
  }

  /** Encodes parts as one job (refused here, before Redis, when it cannot be serialised or is too big). */
  #send(parts: Part[], size: number): void {
    const first = parts[0]!;
    const items = parts.length === 1 ? first.payload : parts.flatMap((part) => part.payload);
    let bytes: Buffer | undefined;
    let error: Error | undefined;
    try {
      bytes = encode(items);
    } catch (cause) {
      const what = first.mode === 'batch' ? 'An item' : 'An argument';
      error = new DataCloneError(`${what} of task ${first.spec.name} could not be serialised for Redis: ${(cause as Error).message}`, { cause });
    }
    const limit = this.#options.maxPayloadBytes;
    if (bytes && bytes.length > limit) {
      const what = first.mode === 'batch' ? `The ${size} items` : 'The arguments';
      error = new RangeError(
        `${what} of task ${first.spec.name} serialise to ${formatBytes(bytes.length)}, over \`maxPayloadBytes\` (${formatBytes(limit)}): ` +
          'send a smaller chunk, or a reference (a path, a key) instead of the data, or raise maxPayloadBytes',
      );
    }
    if (error) {
      if (parts.length === 1) return this.#finishPart(first, error, undefined);
      // Merged, one of them is the culprit: send each alone, so only it fails.
      for (let i = parts.length - 1; i >= 0; i--) {
        const part = parts[i]!;
        part.solo = true;
        if (this.#localHead > 0) this.#local[--this.#localHead] = part;
        else this.#local.unshift(part);
        this.#localSize++;
      }
      return;
    }
    const data: JobData = {
      v: CODEC_VERSION,
      task: first.spec,
      mode: first.mode,
      payload: toBase64(bytes!),
      size,
      ...(first.timeout === undefined ? {} : { timeout: first.timeout }),
    };
    const job = new Job(`${this.#poolId}-${++this.#seq}`, parts, data, bytes!.length);
    for (const part of parts) {
      part.state = SENT;
      part.job = job;
    }
    this.#jobs.set(job.id, job);
    this.#toAdd.push(job);
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    try {
      await this.#connect();
    } catch {
      return; // broken: every pending task has been rejected
    }
    const jobs: Job[] = [];
    for (const job of this.#toAdd.splice(0)) {
      if (job.live > 0) jobs.push(job);
      else this.#zombies.delete(job.id); // withdrawn before it was sent: nothing to remove
    }
    this.#checkIdle();
    if (jobs.length === 0) return;
    const opts = (job: Job) => ({ jobId: job.id, attempts: 1, removeOnComplete: { age: ORPHAN_AGE_S }, removeOnFail: { age: ORPHAN_AGE_S } });
    try {
      await this.#queue!.addBulk(jobs.map((job) => ({ name: job.data.task.name, data: job.data, opts: opts(job) })));
    } catch (error) {
      if (this.#state === 'broken') return;
      const failure = new PoolError(`RedisPool could not add jobs to the queue ${this.queue} at ${this.address}: ${describeConnectionError(error)}`, {
        cause: sanitize(error),
      });
      for (const job of jobs) this.#failJob(job, failure);
      return;
    }
    const now = performance.now();
    for (const job of jobs) {
      job.addedAt = now;
      if (job.state === ADDING) job.state = WAITING;
      if (this.#zombies.has(job.id)) void this.#removeZombie(job.id);
    }
    this.#armReconcile();
  }

  // ── outcomes ──────────────────────────────────────────────────────────────────────────────────

  #onCompleted(jobId: string, returnvalue: unknown): void {
    const job = this.#jobs.get(jobId);
    if (job) {
      let outcome: Outcome | undefined;
      try {
        if (typeof returnvalue !== 'string') throw new TypeError(`expected a string, got ${describe(returnvalue)}`);
        outcome = decode<Outcome>(returnvalue);
      } catch (error) {
        this.#failJob(job, new PoolError(`The result of job ${jobId} could not be read: ${(error as Error).message}`, { cause: error }));
      }
      if (outcome) this.#settleJob(job, outcome, typeof returnvalue === 'string' ? (returnvalue.length * 3) / 4 : 0);
    }
    if (job || this.#zombies.has(jobId)) void this.#removeJob(jobId);
  }

  #settleJob(job: Job, outcome: Outcome, bytes: number): void {
    this.#jobs.delete(job.id);
    if (outcome.k === 'cancelled') {
      return this.#failJob(job, new AbortError(`Job ${job.id} was cancelled on its worker host ${outcome.host}`));
    }
    const host = this.#hosts.get(outcome.host) ?? { jobs: 0, items: 0, busyTime: 0 };
    host.jobs++;
    host.items += job.size;
    host.busyTime += outcome.ms;
    this.#hosts.set(outcome.host, host);
    this.#busyTime += outcome.ms;
    // Measure the task, for batching(): ms and bytes per item.
    const perItem = outcome.ms / job.size;
    const perBytes = Math.max(job.bytes, bytes) / job.size;
    const m = this.#measures.get(job.parts[0]!.key);
    if (m) {
      // Down at once, up slowly: a host's first job of a task includes its module's import (and
      // a cold worker), which must not make every later job small.
      m.ms = perItem < m.ms ? perItem : m.ms * 0.8 + perItem * 0.2;
      m.bytes = m.bytes * 0.8 + perBytes * 0.2;
      m.preferred = this.#preference(m.ms, m.bytes);
    } else {
      this.#measures.set(job.parts[0]!.key, { ms: perItem, bytes: perBytes, preferred: this.#preference(perItem, perBytes) });
    }
    if (outcome.k === 'err') return this.#failJob(job, unwireError(outcome.error));
    if (job.data.mode === 'run') return this.#finishPart(job.parts[0]!, undefined, outcome.value);
    const values = outcome.values ?? [];
    // Refill Redis first (the next job goes out while these results are handed on), once for the job.
    this.#pump();
    const errors = outcome.errors;
    let offset = 0;
    for (const part of job.parts) {
      const n = part.size;
      if (part.state !== DONE) {
        const mine = job.parts.length === 1 ? values : n === 1 ? [values[offset]] : values.slice(offset, offset + n);
        const theirs = errors && (job.parts.length === 1 ? errors : errors.slice(offset, offset + n));
        const failed = theirs?.some(Boolean) ? theirs.map((e) => (e ? unwireError(e) : undefined)) : undefined;
        this.#finishPart(part, undefined, failed ? { values: mine, errors: failed } : { values: mine }, false);
      }
      offset += n;
    }
    this.#pump();
    this.#checkIdle();
  }

  #onFailed(jobId: string, failedReason: string): void {
    const job = this.#jobs.get(jobId);
    if (job) {
      this.#jobs.delete(jobId);
      const name = job.data.task.name;
      this.#failJob(
        job,
        failedReason === STALLED_REASON
          ? new WorkerLostError(
              `Job ${jobId} (task ${name}) was lost: the worker hosts running it stalled (died or lost their lock) more than ` +
                'maxStalledCount times, so BullMQ gave up on it',
              jobId,
            )
          : new PoolError(`A worker host failed job ${jobId} (task ${name}): ${failedReason}`),
      );
    }
    if (job || this.#zombies.has(jobId)) void this.#removeJob(jobId);
  }

  /** Settles every part of a job still waiting with `error`. */
  #failJob(job: Job, error: Error): void {
    this.#jobs.delete(job.id);
    for (const part of job.parts) if (part.state !== DONE) this.#finishPart(part, error, undefined, false);
    this.#pump();
    this.#checkIdle();
  }

  /** Settles one part; `after` (default) then refills Redis and checks for idleness (a job's parts do that once). */
  #finishPart(part: Part, error: Error | undefined, value: unknown, after = true): void {
    if (part.state === DONE) return;
    if (part.state === LOCAL) this.#localSize--;
    part.state = DONE;
    const job = part.job;
    if (job) job.live--;
    if (part.onAbort) part.signal!.removeEventListener('abort', part.onAbort);
    if (error instanceof AbortError) {
      this.#cancelled += part.size;
    } else if (error) {
      this.#failed += part.size;
    } else if (part.mode === 'batch') {
      const errors = (value as BatchResult<unknown>).errors;
      let failed = 0;
      if (errors) for (const e of errors) if (e) failed++;
      this.#failed += failed;
      this.#completed += part.size - failed;
    } else {
      this.#completed++;
    }
    const settle = part.settle;
    part.settle = noop;
    settle(error, value);
    if (job && job.live === 0 && this.#jobs.get(job.id) === job) {
      // Its last part is gone: nobody waits for this job any more.
      this.#jobs.delete(job.id);
      this.#zombies.add(job.id);
      if (job.state !== ADDING) void this.#removeZombie(job.id);
    }
    if (after) {
      this.#pump();
      this.#checkIdle();
    }
  }

  // ── cancellation ──────────────────────────────────────────────────────────────────────────────

  /**
   * Settles a part as cancelled. A job whose every part is cancelled leaves Redis: removed if no
   * host has started it (it never runs), stopped on the host running it otherwise (its local pool
   * replaces the worker).
   */
  #cancel(part: Part, error: AbortError): void {
    this.#finishPart(part, error, undefined);
  }

  /** shutdown({ cancelPending }): removes a job no host has started; one that started runs on. */
  async #removeWaiting(job: Job, reason: () => AbortError): Promise<void> {
    let removed = 0;
    job.removing = true;
    try {
      removed = await this.#queue!.remove(job.id);
    } catch {
      return;
    }
    if (removed === 1) this.#failJob(job, reason());
    else job.removing = false;
  }

  /** Removes a withdrawn job; asks the host running it to stop it when it is locked. */
  async #removeZombie(jobId: string): Promise<void> {
    if (!this.#zombies.has(jobId) || !this.#queue) return;
    try {
      const removed = await this.#queue.remove(jobId);
      if (removed === 1) {
        this.#zombies.delete(jobId);
      } else {
        await this.#client!.publish(cancelChannel(this.#options.prefix, this.queue), jobId);
      }
    } catch {
      // Redis is away: the reconcile tries again.
    }
    this.#checkIdle();
  }

  async #removeJob(jobId: string): Promise<void> {
    try {
      await this.#queue?.remove(jobId);
    } catch {
      // Redis is away; BullMQ removes the orphan after ORPHAN_AGE_S.
    }
    this.#zombies.delete(jobId);
    this.#checkIdle();
  }

  // ── connection ────────────────────────────────────────────────────────────────────────────────

  /** Connects once: the client, the Queue, and the QueueEvents listener, positioned before any add. */
  #connect(): Promise<void> {
    return (this.#connecting ??= this.#open());
  }

  async #open(): Promise<void> {
    const { connection, connectTimeout, prefix, maxEvents } = this.#options;
    const client = createClient(connection);
    this.#client = client;
    client.on('error', (error: Error) => {
      this.#lastError = error;
      if (isAuthError(error)) {
        this.#break(new BrokenPoolError(`Redis at ${this.address} refused this pool's credentials: ${describeConnectionError(error)}`, { cause: sanitize(error) }));
      }
    });
    client.on('close', () => this.#onDown());
    client.on('ready', () => this.#onUp());
    try {
      await withDeadline(
        new Promise<void>((resolve, reject) => {
          client.once('ready', resolve);
          client.on('error', (error: Error) => isAuthError(error) && reject(error));
          client.once('end', () => reject(this.#lastError ?? new Error('the connection closed')));
          client.connect().catch(noop);
        }),
        connectTimeout,
        () => this.#lastError ?? new Error(`no answer within ${connectTimeout} ms`),
      );
    } catch (error) {
      const broken =
        this.#broken ??
        new BrokenPoolError(
          `RedisPool cannot connect to Redis at ${this.address} (waited ${Math.round(connectTimeout / 1000)} s): ${describeConnectionError(error)}`,
          { cause: sanitize(error) },
        );
      this.#break(broken);
      throw broken;
    }
    if (this.#state === 'broken') throw this.#broken;
    this.#connected = true;
    const { Queue, QueueEvents } = deps.bullmq;
    // Read from the stream's current end, fixed before the first job is added: QueueEvents'
    // default ('$', resolved when its first XREAD runs) would miss events that come earlier.
    const events = `${prefix}:${this.queue}:events`;
    const last = (await client.xrevrange(events, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    this.#queue = new Queue(this.queue, { connection: client, prefix, streams: { events: { maxLen: maxEvents } } });
    this.#queue.on('error', noop); // connection errors are handled on the client
    this.#events = new QueueEvents(this.queue, { connection: client, prefix, lastEventId: last, blockingTimeout: 5_000 });
    this.#events.on('error', noop);
    const mine = (jobId: string) => jobId.startsWith(this.#poolId);
    this.#events.on('completed', ({ jobId, returnvalue }) => mine(jobId) && this.#onCompleted(jobId, returnvalue));
    this.#events.on('failed', ({ jobId, failedReason }) => mine(jobId) && this.#onFailed(jobId, failedReason));
    this.#events.on('active', ({ jobId }) => {
      const job = mine(jobId) ? this.#jobs.get(jobId) : undefined;
      if (job && (job.state === WAITING || job.state === ADDING)) job.state = ACTIVE;
    });
    this.#events.on('waiting', ({ jobId, prev }) => {
      if (!mine(jobId)) return;
      const job = this.#jobs.get(jobId);
      if (job?.state === ACTIVE && prev === 'active') {
        // Stalled and put back by BullMQ: another host will run it.
        job.state = WAITING;
        this.#redelivered++;
      } else if (this.#zombies.has(jobId)) {
        void this.#removeZombie(jobId);
      }
    });
    this.#events.on('removed', ({ jobId }) => {
      const job = mine(jobId) ? this.#jobs.get(jobId) : undefined;
      if (job && job.state !== ADDING && !job.removing) this.#failJob(job, new PoolError(`Job ${jobId} (task ${job.data.task.name}) was removed from Redis by someone else`));
    });
    await Promise.all([this.#queue.waitUntilReady(), this.#events.waitUntilReady()]);
    this.#refreshWorkers();
  }

  #onDown(): void {
    if (!this.#connected || this.#downTimer || this.#disconnecting || this.#state === 'broken' || this.#state === 'closed') return;
    const { reconnectTimeout } = this.#options;
    this.#downTimer = setTimeout(() => {
      const cause = this.#lastError;
      this.#break(
        new BrokenPoolError(
          `RedisPool lost its connection to Redis at ${this.address} and it was not back within ${Math.round(reconnectTimeout / 1000)} s` +
            (cause ? `: ${describeConnectionError(cause)}` : ''),
          { cause: cause && sanitize(cause) },
        ),
      );
    }, reconnectTimeout);
    // Only pending work keeps the process alive.
    if (this.#jobs.size === 0 && this.#localSize === 0) this.#downTimer.unref();
  }

  #onUp(): void {
    if (this.#downTimer) clearTimeout(this.#downTimer);
    this.#downTimer = undefined;
    // Back after a disconnect: Redis may have restarted without its data. Check at once.
    if (this.#connected) void this.#reconcile(true);
  }

  // ── the reconcile: jobs without news are looked up in Redis ──────────────────────────────────

  #armReconcile(): void {
    if (this.#reconcileTimer || this.#state === 'broken') return;
    this.#reconcileTimer = setTimeout(() => {
      this.#reconcileTimer = undefined;
      void this.#reconcile(false).finally(() => {
        if (this.#jobs.size > 0 || this.#zombies.size > 0) this.#armReconcile();
      });
    }, RECONCILE_MS);
    this.#reconcileTimer.unref();
  }

  /**
   * Looks up jobs whose outcome has not arrived: one finished whose event was missed is settled
   * from its job; one missing means Redis lost it (restarted without persistence, or flushed), and
   * the pool is broken rather than waiting forever for results that are gone.
   */
  async #reconcile(all: boolean): Promise<void> {
    if (this.#reconciling || !this.#client || this.#state === 'broken') return;
    this.#reconciling = true;
    try {
      const now = performance.now();
      const jobs = [...this.#jobs.values()].filter((job) => (job.state === WAITING || job.state === ACTIVE) && (all || now - job.addedAt >= RECONCILE_MS));
      const zombies = [...this.#zombies];
      const ids = [...jobs.map((job) => job.id), ...zombies];
      if (ids.length === 0) return;
      const base = `${this.#options.prefix}:${this.queue}:`;
      const pipeline = this.#client.pipeline();
      for (const id of ids) pipeline.hmget(base + id, 'timestamp', 'finishedOn', 'returnvalue', 'failedReason');
      const replies = (await pipeline.exec()) ?? [];
      let lost = 0;
      for (let i = 0; i < ids.length; i++) {
        const [error, fields] = replies[i] ?? [];
        if (error || !Array.isArray(fields)) continue;
        const [timestamp, finishedOn, returnvalue, failedReason] = fields as (string | null)[];
        const id = ids[i]!;
        const job = this.#jobs.get(id);
        if (timestamp === null) {
          if (job) lost++;
          else this.#zombies.delete(id);
          continue;
        }
        if (finishedOn === null) continue;
        if (job) {
          if (failedReason !== null) this.#onFailed(id, failedReason);
          else this.#onCompleted(id, returnvalue === null ? undefined : (JSON.parse(returnvalue) as unknown));
        } else if (this.#zombies.has(id)) {
          void this.#removeJob(id);
        }
      }
      if (lost > 0) {
        this.#break(
          new BrokenPoolError(
            `Redis at ${this.address} no longer holds ${lost} of this pool's jobs: it restarted without persistence (appendonly) or its data was ` +
              'flushed, so their results will never come',
          ),
        );
      }
    } catch {
      // Redis is away: the next round tries again.
    } finally {
      this.#reconciling = false;
      this.#checkIdle();
    }
  }

  #refreshWorkers(): void {
    if (this.#workersTimer || !this.#queue) return;
    const tick = async () => {
      try {
        this.#workers = await this.#queue!.getWorkersCount();
      } catch {
        // keep the last figure
      }
    };
    void tick();
    this.#workersTimer = setInterval(() => void tick(), WORKERS_MS);
    this.#workersTimer.unref();
  }

  // ── the end ───────────────────────────────────────────────────────────────────────────────────

  #break(error: BrokenPoolError): void {
    if (this.#state === 'broken' || this.#state === 'closed') return;
    this.#state = 'broken';
    this.#broken = error;
    for (const part of this.#localParts()) this.#finishPart(part, error, undefined);
    for (const job of [...this.#jobs.values()]) this.#failJob(job, error);
    this.#zombies.clear();
    this.#toAdd = [];
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idle && this.#localSize === 0 && this.#jobs.size === 0 && this.#zombies.size === 0) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  async #closeWhenIdle(): Promise<void> {
    if (this.#localSize > 0 || this.#jobs.size > 0 || this.#zombies.size > 0) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        this.#checkIdle();
      });
    }
    if (this.#zombies.size > 0) {
      // Cancelled jobs a host is still stopping: give them a moment to end, so they can be removed.
      const grace = setTimeout(() => this.#idle?.(), ZOMBIE_GRACE_MS);
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        this.#checkIdle();
      });
      clearTimeout(grace);
    }
    await this.#disconnect();
    if (this.#state !== 'broken') this.#state = 'closed';
  }

  async #disconnect(): Promise<void> {
    this.#disconnecting = true;
    clearTimeout(this.#downTimer);
    clearTimeout(this.#reconcileTimer);
    clearInterval(this.#workersTimer);
    this.#downTimer = this.#reconcileTimer = this.#workersTimer = undefined;
    if (this.#connecting) await this.#connecting.catch(noop);
    const client = this.#client;
    if (!client) return;
    const healthy = client.status === 'ready';
    const closing = Promise.allSettled([this.#events?.close(), this.#queue?.close()]);
    // A closed connection to a Redis that is gone would wait for it: give it a moment, then cut it.
    await withDeadline(closing, healthy ? 5_000 : 500).catch(noop);
    if (healthy && client.status === 'ready') await withDeadline(client.quit(), 2_000).catch(noop);
    client.disconnect();
  }
}

/** `module:name@path` or `inline:source`: what the measures are kept by. */
function specKey(spec: TaskSpec): string {
  return spec.k === 'module' ? `module:${spec.name}@${spec.path}` : `inline:${spec.source}`;
}

export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:rxjs-pools:cancel`;
}

function checkSubmitOptions(options: SubmitOptions | MapOptions | undefined): { signal?: AbortSignal; timeout?: number } {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  if (timeout !== undefined) expectDuration('timeout', timeout);
  if ('transfer' in options && options.transfer !== undefined) {
    throw new TypeError('`transfer` moves memory to a thread of this process; a RedisPool copies arguments to other machines, so it takes no `transfer`');
  }
  return { signal, timeout };
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

/**
 * A connection error safe to keep as a `cause`: message, name and code only. ioredis' ReplyError
 * carries the failed command with its arguments, and AUTH's arguments are the password.
 */
function sanitize(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const clean = new Error(describeConnectionError(original));
  Object.defineProperty(clean, 'name', { value: original.name, enumerable: false, configurable: true, writable: true });
  const code = (original as NodeJS.ErrnoException).code;
  if (code !== undefined) (clean as NodeJS.ErrnoException).code = code;
  return clean;
}

/** Races `promise` against `ms`; on expiry rejects with `reason()` (or a timeout error). */
function withDeadline<T>(promise: Promise<T>, ms: number, reason: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(reason()), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
