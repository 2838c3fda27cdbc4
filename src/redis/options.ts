import { expectDuration, expectInteger } from '../pools/options.ts';
import { describe } from '../pools/task.ts';
import { parseConnection, type Connection } from './connection.ts';
import { resolveRoot } from './tasks.ts';

/** Options of {@link RedisPool}. */
export interface RedisPoolOptions {
  /**
   * The Redis server, as a URL: `redis://host:port/db`, `redis://user:password@host:port` with
   * authentication, `rediss://…` for TLS. The password is never printed: messages name
   * `redis://host:port` only.
   */
  readonly connection: string;
  /** The BullMQ queue the worker hosts listen on (`rxjs-pools worker --queue NAME`). */
  readonly queue: string;
  /**
   * The code root: module tasks travel as their path relative to it, and each worker host resolves
   * that path under its own `--root`. A task module outside it is refused at submit.
   * @default process.cwd()
   */
  readonly root?: string;
  /**
   * Jobs this pool keeps in Redis at once (queued or running on a host), at most; more wait here.
   * It is the pool's `maxWorkers`, what the operators take as their default concurrency: the
   * hosts behind a queue are not known in advance.
   * @default 64
   */
  readonly maxInFlight?: number;
  /**
   * Milliseconds a task may run on a host before it fails with `TaskTimeoutError` (the host's
   * local pool replaces the worker). A per-call `timeout` overrides it; for a batch it is per item.
   * @default Infinity
   */
  readonly taskTimeout?: number;
  /**
   * Largest serialised arguments (or batch of items) a job may carry, in bytes. A bigger one is
   * refused with a `RangeError` before it reaches Redis. Hosts apply the same limit to results.
   * @default 16 MiB
   */
  readonly maxPayloadBytes?: number;
  /**
   * Milliseconds to wait for the first connection to Redis. Past it (or at once, for wrong
   * credentials) the pool is broken: pending and later tasks reject with `BrokenPoolError`
   * naming the address.
   * @default 5000
   */
  readonly connectTimeout?: number;
  /**
   * Milliseconds Redis may stay unreachable during a run. Past it the pool is broken: pending
   * tasks reject with `BrokenPoolError`, the connection error as its `cause`.
   * @default 30000
   */
  readonly reconnectTimeout?: number;
  /**
   * Entries BullMQ keeps in the queue's event stream (approximately: it trims whole stream nodes).
   * The pool reads results from it; a result trimmed before it was read is fetched from its job.
   * @default 2000
   */
  readonly maxEvents?: number;
  /**
   * BullMQ's key prefix; the worker hosts must use the same (`--prefix`).
   * @default 'bull'
   */
  readonly prefix?: string;
}

export interface ResolvedRedisPoolOptions {
  readonly connection: Connection;
  readonly queue: string;
  readonly root: string;
  readonly maxInFlight: number;
  readonly taskTimeout: number;
  readonly maxPayloadBytes: number;
  readonly connectTimeout: number;
  readonly reconnectTimeout: number;
  readonly maxEvents: number;
  readonly prefix: string;
}

export const REDIS_POOL_DEFAULTS = {
  maxInFlight: 64,
  taskTimeout: Infinity,
  maxPayloadBytes: 16 * 1024 * 1024,
  connectTimeout: 5_000,
  reconnectTimeout: 30_000,
  maxEvents: 2_000,
  prefix: 'bull',
} as const;

const KEYS = ['connection', 'queue', 'root', 'maxInFlight', 'taskTimeout', 'maxPayloadBytes', 'connectTimeout', 'reconnectTimeout', 'maxEvents', 'prefix'];

/** Throws a TypeError unless `value` is a BullMQ queue name (or key prefix). */
export function expectName(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes(':') || /\s/.test(value)) {
    throw new TypeError(`Expected \`${name}\` to be a non-empty name without ':' or spaces, got ${describe(value)}`);
  }
  return value;
}

function expectFinite(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = expectDuration(name, value);
  if (ms === Infinity) throw new TypeError(`Expected \`${name}\` to be a finite number of milliseconds, got Infinity`);
  return ms;
}

/** Validates `RedisPool` options eagerly, naming what is wrong. */
export function validateRedisPoolOptions(options: RedisPoolOptions): ResolvedRedisPoolOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected RedisPool options to be an object with \`connection\` and \`queue\`, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new TypeError(`Unknown RedisPool option \`${key}\`; known options: ${KEYS.join(', ')}`);
  }
  const connection = parseConnection('connection', options.connection);
  const queue = expectName('queue', options.queue);
  const root = options.root ?? process.cwd();
  if (typeof root !== 'string' || root === '') throw new TypeError(`Expected \`root\` to be a directory path, got ${describe(root)}`);
  const d = REDIS_POOL_DEFAULTS;
  return {
    connection,
    queue,
    root: resolveRoot(root),
    maxInFlight: options.maxInFlight === undefined ? d.maxInFlight : expectInteger('maxInFlight', options.maxInFlight, 1),
    taskTimeout: options.taskTimeout === undefined ? d.taskTimeout : expectDuration('taskTimeout', options.taskTimeout),
    maxPayloadBytes: options.maxPayloadBytes === undefined ? d.maxPayloadBytes : expectInteger('maxPayloadBytes', options.maxPayloadBytes, 1),
    connectTimeout: expectFinite('connectTimeout', options.connectTimeout, d.connectTimeout),
    reconnectTimeout: expectFinite('reconnectTimeout', options.reconnectTimeout, d.reconnectTimeout),
    maxEvents: options.maxEvents === undefined ? d.maxEvents : expectInteger('maxEvents', options.maxEvents, 100),
    prefix: options.prefix === undefined ? d.prefix : expectName('prefix', options.prefix),
  };
}
