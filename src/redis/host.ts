/**
 * A worker host: a BullMQ `Worker` on the queue that hands each job to a local `ThreadPool` or
 * `ProcessPool`, so CPU work never blocks the event loop that renews BullMQ's locks. Started by
 * `rxjs-pools worker --redis URL --queue NAME`, or in code with {@link WorkerHost}.
 *
 * It holds at most `maxWorkers + prefetch` jobs: one running per local worker, plus `prefetch`
 * decoded and ready, so a host that dies re-runs little. On `close()` it stops taking jobs, hands
 * back those it has not started, lets running ones finish for a grace period (then stops them and
 * hands them back too), and ends within a deadline even while Redis is unreachable.
 */

import { hostname, availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PoolError } from '../errors.ts';
import type { BatchResult, Cancel, TaskRef } from '../pools/Pool.ts';
import { ProcessPool } from '../pools/ProcessPool.ts';
import { ThreadPool } from '../pools/ThreadPool.ts';
import { expectDuration, expectInteger } from '../pools/options.ts';
import { describe } from '../pools/task.ts';
import { CODEC_VERSION, decode, encode, toBase64, wireError, type JobData, type Outcome } from './codec.ts';
import { createClient, describeConnectionError, isAuthError, parseConnection, type Connection } from './connection.ts';
import { deps, type BullMQ, type Redis } from './deps.ts';
import { expectName, REDIS_POOL_DEFAULTS } from './options.ts';
import { cancelChannel } from './RedisPool.ts';
import { resolveRoot, resolveSpec } from './tasks.ts';

/** Options of {@link WorkerHost} (the `rxjs-pools worker` flags). */
export interface WorkerHostOptions {
  /** The Redis URL (`redis://user:pass@host:port/db`, `rediss://` for TLS). */
  readonly connection: string;
  /** The queue to take jobs from. */
  readonly queue: string;
  /** Run jobs on this many worker threads. @default os.availableParallelism() */
  readonly threads?: number;
  /** Run jobs on this many child processes instead (excludes `threads`). */
  readonly processes?: number;
  /** Task modules are resolved under it; a path outside is refused. @default process.cwd() */
  readonly root?: string;
  /** Run inline functions sent by source. Off: whoever can write to Redis could run code here. @default false */
  readonly allowInline?: boolean;
  /** Jobs held beyond one per local worker, decoded and ready. @default 1 */
  readonly prefetch?: number;
  /** BullMQ lock duration (ms): a job whose host stops renewing it is re-delivered after it. @default 8000 */
  readonly lockDuration?: number;
  /** BullMQ stalled-job check interval (ms). With lockDuration, bounds a re-delivery at ~12 s. @default 4000 */
  readonly stalledInterval?: number;
  /** Re-deliveries of a stalled job before it fails (WorkerLostError in the pool). @default 1 */
  readonly maxStalledCount?: number;
  /** Largest serialised result of a job, in bytes. @default 16 MiB */
  readonly maxPayloadBytes?: number;
  /** Name of this host in the pool's `hosts` and on every job it runs. @default `${hostname}:${pid}` */
  readonly name?: string;
  /** BullMQ key prefix (the pools' `prefix`). @default 'bull' */
  readonly prefix?: string;
  /** On close, milliseconds running jobs may take to finish before they are stopped and handed back. @default 5000 */
  readonly grace?: number;
}

/** What a host is doing. */
export interface HostStatus {
  readonly name: string;
  readonly connected: boolean;
  readonly closing: boolean;
  /** Jobs held: running plus prefetched. */
  readonly held: number;
  readonly running: number;
  readonly jobs: number;
  readonly items: number;
  readonly failed: number;
  readonly handedBack: number;
}

interface Resolved {
  connection: Connection;
  queue: string;
  kind: 'threads' | 'processes';
  workers: number;
  root: string;
  allowInline: boolean;
  prefetch: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
  maxPayloadBytes: number;
  name: string;
  prefix: string;
  grace: number;
}

const KEYS = [
  'connection', 'queue', 'threads', 'processes', 'root', 'allowInline', 'prefetch', 'lockDuration', 'stalledInterval',
  'maxStalledCount', 'maxPayloadBytes', 'name', 'prefix', 'grace',
];

/** Everything a host does on close must be over by then, even with Redis gone. */
const CLOSE_DEADLINE_MS = 8_500;

export function validateWorkerHostOptions(options: WorkerHostOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected worker host options to be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new TypeError(`Unknown worker host option \`${key}\`; known options: ${KEYS.join(', ')}`);
  }
  if (options.threads !== undefined && options.processes !== undefined) throw new TypeError('`threads` and `processes` exclude each other: pick one');
  const lockDuration = options.lockDuration === undefined ? 8_000 : expectInteger('lockDuration', options.lockDuration, 100);
  const stalledInterval = options.stalledInterval === undefined ? 4_000 : expectInteger('stalledInterval', options.stalledInterval, 100);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  if (typeof name !== 'string' || name === '') throw new TypeError(`Expected \`name\` to be a non-empty string, got ${describe(name)}`);
  if (options.allowInline !== undefined && typeof options.allowInline !== 'boolean') {
    throw new TypeError(`Expected \`allowInline\` to be a boolean, got ${describe(options.allowInline)}`);
  }
  return {
    connection: parseConnection('connection', options.connection),
    queue: expectName('queue', options.queue),
    kind: options.processes !== undefined ? 'processes' : 'threads',
    workers:
      options.processes !== undefined
        ? expectInteger('processes', options.processes, 1)
        : options.threads !== undefined
          ? expectInteger('threads', options.threads, 1)
          : availableParallelism(),
    root: resolveRoot(options.root ?? process.cwd()),
    allowInline: options.allowInline ?? false,
    prefetch: options.prefetch === undefined ? 1 : expectInteger('prefetch', options.prefetch, 0),
    lockDuration,
    stalledInterval,
    maxStalledCount: options.maxStalledCount === undefined ? 1 : expectInteger('maxStalledCount', options.maxStalledCount, 0),
    maxPayloadBytes: options.maxPayloadBytes === undefined ? REDIS_POOL_DEFAULTS.maxPayloadBytes : expectInteger('maxPayloadBytes', options.maxPayloadBytes, 1),
    name,
    prefix: options.prefix === undefined ? 'bull' : expectName('prefix', options.prefix),
    grace: options.grace === undefined ? 5_000 : expectDuration('grace', options.grace),
  };
}

interface Held {
  /** Stops the job: cancelled by its pool ('cancel'), or handed back at close ('handback'). */
  stop(why: 'cancel' | 'handback'): void;
  running: boolean;
}

type Ran = { error?: Error; value?: unknown; result?: BatchResult<unknown> } | { stopped: 'cancel' | 'handback' };

function noop(): void {}

/** Run once per local worker at start: the host's own code, not a task from Redis. */
function warmUp(): number {
  return 0;
}

/** A BullMQ Worker in front of a local pool. `start()`, then `close()`. */
export class WorkerHost {
  readonly options: Readonly<Resolved>;
  #local: ThreadPool | ProcessPool | undefined;
  #client: Redis | undefined;
  #subscriber: Redis | undefined;
  #worker: BullMQ.Worker | undefined;
  readonly #tasks = new Map<string, TaskRef | ((...args: unknown[]) => unknown)>();
  readonly #held = new Map<string, Held>();
  /** Cancel requests for jobs not (yet) here, remembered a while in case the job arrives later. */
  readonly #cancelled = new Map<string, number>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #jobs = 0;
  #items = 0;
  #failed = 0;
  #handedBack = 0;
  #connected = false;
  #closing: Promise<void> | undefined;
  #onLost: (() => void) | undefined;
  #lastError: Error | undefined;
  /** Called whenever the status changes (the CLI's status line). */
  onStatus: ((status: HostStatus) => void) | undefined;
  /** Called with each connection error while `start()` waits for Redis. */
  onWaiting: ((error: Error) => void) | undefined;

  constructor(options: WorkerHostOptions) {
    this.options = validateWorkerHostOptions(options);
  }

  get status(): HostStatus {
    return {
      name: this.options.name,
      connected: this.#connected,
      closing: this.#closing !== undefined,
      held: this.#held.size,
      running: this.#running,
      jobs: this.#jobs,
      items: this.#items,
      failed: this.#failed,
      handedBack: this.#handedBack,
    };
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Connects and starts taking jobs; resolves once the Worker is ready. */
  async start(): Promise<void> {
    const o = this.options;
    this.#local = this.#makeLocal();
    const client = createClient(o.connection);
    this.#client = client;
    client.on('error', (error: Error) => {
      this.#lastError = error;
    });
    client.on('ready', () => this.#setConnected(true));
    client.on('close', () => this.#setConnected(false));
    // ioredis retries until Redis is up (a host may well start first); wrong credentials end it.
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.on('error', (error: Error) => {
        if (isAuthError(error)) reject(new Error(`Redis at ${o.connection.address} refused the credentials: ${describeConnectionError(error)}`));
        else this.onWaiting?.(error);
      });
      client.once('end', () => reject(new Error(`the connection to Redis at ${o.connection.address} was closed before it was ready`)));
      client.connect().catch(noop);
    });
    // Cancel requests for running jobs come on a pub/sub channel (BullMQ's cancelJob is local to
    // the process running the job), which needs a connection of its own.
    const subscriber = client.duplicate();
    this.#subscriber = subscriber;
    subscriber.on('error', noop);
    subscriber.on('message', (_channel: string, jobId: string) => this.#onCancel(jobId));
    await subscriber.subscribe(cancelChannel(o.prefix, o.queue));
    const { Worker } = deps.bullmq;
    this.#worker = new Worker(this.options.queue, (job, token) => this.#process(job, token), {
      connection: client,
      prefix: o.prefix,
      name: o.name,
      concurrency: o.workers + o.prefetch,
      lockDuration: o.lockDuration,
      stalledInterval: o.stalledInterval,
      maxStalledCount: o.maxStalledCount,
      // The queue is polled by a blocking call; this is how long one waits when it is empty.
      drainDelay: 2,
      autorun: true,
    });
    this.#worker.on('error', (error: Error) => {
      this.#lastError = error;
    });
    await this.#worker.waitUntilReady();
    // Start every local worker now, so "ready" means ready to run (and the first jobs do not pay
    // for the workers' start-up).
    const local = this.#local;
    await Promise.all(Array.from({ length: o.workers }, () => local.submit(warmUp, []).catch(noop)));
  }

  #makeLocal(): ThreadPool | ProcessPool {
    const { kind, workers } = this.options;
    return kind === 'processes' ? new ProcessPool({ maxWorkers: workers }) : new ThreadPool({ maxWorkers: workers });
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    if (!connected) this.#onLost?.();
    this.#emit();
  }

  #emit(): void {
    this.onStatus?.(this.status);
  }

  #onCancel(jobId: string): void {
    const held = this.#held.get(jobId);
    if (held) return held.stop('cancel');
    // It may reach this host later (the request raced its delivery): remember it a minute.
    const now = Date.now();
    this.#cancelled.set(jobId, now);
    if (this.#cancelled.size > 10_000) {
      for (const [id, at] of this.#cancelled) if (now - at > 60_000 || this.#cancelled.size > 10_000) this.#cancelled.delete(id);
    }
  }

  /** The BullMQ processor: one job, one batch (or call) on the local pool. */
  async #process(job: BullMQ.Job, token: string | undefined): Promise<string> {
    const { name } = this.options;
    const data = job.data as JobData;
    const id = job.id!;
    if (this.#cancelled.delete(id)) return outcome({ k: 'cancelled', host: name });
    if (typeof data !== 'object' || data === null || data.v !== CODEC_VERSION) {
      return this.#fail(new TypeError(`Job ${id} is not an rxjs-pools job of version ${CODEC_VERSION} (got ${describe((data as JobData | null)?.v)})`), 0);
    }
    let fn: TaskRef | ((...args: unknown[]) => unknown);
    let payload: unknown[];
    try {
      fn = resolveSpec(data.task, this.options.root, this.options.allowInline, this.#tasks);
      payload = decode<unknown[]>(data.payload);
    } catch (error) {
      return this.#fail(error, 0, data.size);
    }

    let stopped: 'cancel' | 'handback' | undefined;
    let stopRunning: (why: 'cancel' | 'handback') => void = noop;
    const held: Held = {
      running: false,
      stop: (why) => {
        stopped ??= why;
        stopRunning(why);
      },
    };
    this.#held.set(id, held);
    this.#emit();
    try {
      // One job per local worker at a time; the prefetched ones wait here, ready.
      if (this.#running >= this.options.workers) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      if (stopped === undefined && this.#closing) stopped = 'handback';
      if (stopped !== undefined) return await this.#stopped(job, token, stopped);
      held.running = true;
      this.#running++;
      this.#emit();
      const started = performance.now();
      const ran = await this.#run(data, fn, payload, (stop) => (stopRunning = stop));
      const ms = performance.now() - started;
      this.#running--;
      this.#next();
      if ('stopped' in ran) return await this.#stopped(job, token, ran.stopped);
      return this.#answer(data, ran, ms);
    } finally {
      this.#held.delete(id);
      this.#emit();
    }
  }

  /** Runs the job on the local pool; `onStop` receives how to stop it midway. */
  #run(data: JobData, fn: TaskRef | ((...args: unknown[]) => unknown), payload: unknown[], onStop: (stop: (why: 'cancel' | 'handback') => void) => void): Promise<Ran> {
    let local = this.#local!;
    if (local.stats.state === 'broken') {
      // Its workers kept dying at start-up (say, a bad --processes environment): try a fresh one.
      void local.shutdown({ wait: false }).catch(noop);
      local = this.#local = this.#makeLocal();
    }
    return new Promise<Ran>((resolve) => {
      if (data.mode === 'run') {
        const controller = new AbortController();
        let why: 'cancel' | 'handback' | undefined;
        onStop((w) => {
          why = w;
          controller.abort();
        });
        local.submit(fn as TaskRef, payload as never, { signal: controller.signal, ...(data.timeout === undefined ? {} : { timeout: data.timeout }) }).then(
          (value) => resolve(why ? { stopped: why } : { value }),
          (error: Error) => resolve(why ? { stopped: why } : { error }),
        );
        return;
      }
      let cancel: Cancel = noop;
      onStop((why) => {
        cancel();
        resolve({ stopped: why });
      });
      // The local pool times each item (the batch's limit is timeout × items) from its start on a worker.
      const options = data.timeout === undefined ? undefined : { timeout: data.timeout };
      cancel = local.runBatch(fn as TaskRef, payload, (error, result) => resolve(error ? { error } : { result: result! }), options);
    });
  }

  #next(): void {
    this.#waiting.shift()?.();
  }

  /** Cancelled: a marker nobody reads. Handed back: to the queue, for another host. */
  async #stopped(job: BullMQ.Job, token: string | undefined, why: 'cancel' | 'handback'): Promise<string> {
    if (why === 'cancel') return outcome({ k: 'cancelled', host: this.options.name });
    this.#handedBack++;
    await job.moveToWait(token);
    throw new deps.bullmq.WaitingError();
  }

  #answer(data: JobData, ran: Exclude<Ran, { stopped: unknown }>, ms: number): string {
    const host = this.options.name;
    let result: Outcome;
    if (ran.error) {
      return this.#fail(ran.error, ms, data.size);
    } else if (ran.result) {
      const errors = ran.result.errors?.map((e) => (e ? wireError(e) : undefined));
      const failed = errors?.filter(Boolean).length ?? 0;
      this.#failed += failed;
      result = errors ? { k: 'ok', values: [...ran.result.values], errors, ms, host } : { k: 'ok', values: [...ran.result.values], ms, host };
    } else {
      result = { k: 'ok', value: ran.value, ms, host };
    }
    let bytes: Buffer;
    try {
      bytes = encode(result);
    } catch (error) {
      return this.#fail(new PoolError(`The result of task ${data.task.name} could not be serialised for Redis: ${(error as Error).message}`, { cause: error }), ms, data.size);
    }
    if (bytes.length > this.options.maxPayloadBytes) {
      return this.#fail(
        new RangeError(
          `The result of task ${data.task.name} serialises to ${(bytes.length / 2 ** 20).toFixed(1)} MiB, over the worker host's maxPayloadBytes ` +
            `(${(this.options.maxPayloadBytes / 2 ** 20).toFixed(1)} MiB): return a reference (a path, a key) instead of the data`,
        ),
        ms,
        data.size,
      );
    }
    this.#jobs++;
    this.#items += data.size;
    return toBase64(bytes);
  }

  #fail(error: unknown, ms: number, size = 1): string {
    this.#jobs++;
    this.#items += size;
    this.#failed += size;
    return outcome({ k: 'err', error: wireError(error), ms, host: this.options.name });
  }

  /**
   * Stops taking jobs; hands back those not started; lets running ones finish for `grace` ms,
   * then stops and hands them back; closes everything. Resolves within ~9 s even with Redis gone.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    const deadline = performance.now() + CLOSE_DEADLINE_MS;
    const left = () => Math.max(0, deadline - performance.now());
    this.#emit();
    const worker = this.#worker;
    let closed = !worker;
    const closing = worker ? worker.close().then(() => void (closed = true), noop) : Promise.resolve();
    // Prefetched jobs go back to the queue.
    for (const resolve of this.#waiting.splice(0)) resolve();
    const handBackAll = () => {
      for (const held of this.#held.values()) held.stop('handback');
    };
    if (this.#connected) {
      // Running jobs may finish within the grace; then they are stopped and handed back. If Redis
      // goes away meanwhile, there is nothing to wait for.
      const lost = new Promise<void>((resolve) => (this.#onLost = resolve));
      await race(Promise.race([closing, lost]), Math.min(this.options.grace, left()));
      handBackAll();
      if (this.#connected) await race(closing, Math.min(2_000, left()));
    } else {
      // Redis is unreachable: nothing can be finished or handed back now. BullMQ gives the jobs
      // this host held to another once their locks expire (at-least-once).
      handBackAll();
    }
    if (worker && !closed) await race(worker.close(true).catch(noop), Math.min(500, left()));
    await race(this.#local?.shutdown({ cancelPending: true }) ?? Promise.resolve(), Math.min(1_000, left()));
    for (const client of [this.#subscriber, this.#client]) {
      if (!client) continue;
      if (client.status === 'ready') await race(client.quit().catch(noop), Math.min(500, left()));
      client.disconnect();
    }
    this.#setConnected(false);
  }
}

function outcome(value: Outcome): string {
  return toBase64(encode(value));
}

function race(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(noop, noop),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

