/**
 * Redis connections: one URL (`redis://user:pass@host:port/db`, `rediss://` for TLS), the
 * address it names without its credentials (for every message and log line), and ioredis clients
 * that retry quickly and forever: the pool and the worker host put their own deadlines on top.
 */

import { describe } from '../pools/task.ts';
import { deps, type Redis, type RedisOptions } from './deps.ts';

export interface Connection {
  /** The URL as given (may hold a password: never print it). */
  readonly url: string;
  /** `redis://host:port/db` with user and password left out: safe to print. */
  readonly address: string;
}

/** Checks a connection URL and derives its printable address. */
export function parseConnection(name: string, value: unknown): Connection {
  if (typeof value !== 'string') {
    throw new TypeError(`Expected \`${name}\` to be a Redis URL such as redis://127.0.0.1:6379 (or rediss:// for TLS), got ${describe(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`Expected \`${name}\` to be a Redis URL such as redis://127.0.0.1:6379, got a string that is not a URL`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new TypeError(`Expected \`${name}\` to be a redis:// or rediss:// URL, got one with the scheme ${url.protocol}`);
  }
  const port = url.port || '6379';
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new TypeError(`Expected the database in \`${name}\` to be a number (redis://host:port/0), got ${JSON.stringify(db)}`);
  return { url: value, address: `${url.protocol}//${url.hostname || '127.0.0.1'}:${port}${db ? `/${db}` : ''}` };
}

/** Whether a connection error means the credentials are wrong (no use retrying). */
export function isAuthError(error: unknown): boolean {
  return /\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|without any password configured/i.test(String((error as Error)?.message ?? error));
}

/** A short, password-free description of a connection error: `connect ECONNREFUSED 127.0.0.1:6390`. */
export function describeConnectionError(error: unknown): string {
  const message = String((error as Error)?.message ?? error);
  // ioredis never puts the password in its messages; strip any URL credentials to be sure.
  return message.replace(/(rediss?:\/\/)[^@\s/]*@/gi, '$1');
}

/**
 * An ioredis client for BullMQ: commands wait for a reconnect instead of failing after 20 tries
 * (`maxRetriesPerRequest: null`, which BullMQ's blocking connections require anyway), and the
 * reconnect is tried every 50–500 ms so a restarted Redis is seen at once.
 */
export function createClient(connection: Connection, options: RedisOptions = {}): Redis {
  return new deps.Redis(connection.url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    lazyConnect: true,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => Math.min(50 * times, 500),
    ...options,
  });
}
