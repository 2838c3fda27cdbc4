/** Shared bits of the RedisPool suites: the fixture tasks, a raw Redis client, what is left in Redis. */
import { Redis } from 'ioredis';
import { task } from 'rxjs-pools';
import type * as tasks from './fixtures/tasks.ts';
import { repo } from './hosts.ts';

const fixtures = new URL('./fixtures/tasks.ts', import.meta.url);
export const t = {
  double: task<typeof tasks.double>(fixtures, 'double'),
  add: task<typeof tasks.add>(fixtures, 'add'),
  check: task<typeof tasks.check>(fixtures, 'check'),
  block: task<typeof tasks.block>(fixtures, 'block'),
  record: task<typeof tasks.record>(fixtures, 'record'),
  killHost: task<typeof tasks.killHost>(fixtures, 'killHost'),
  bytes: task<typeof tasks.bytes>(fixtures, 'bytes'),
};

export { repo };

/** A plain client for looking into Redis from the test. */
export function inspect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => {}); // a test that stops the server sees it in its own assertions
  return redis;
}

/** Keys of the queue's jobs and locks (everything but the queue's own meta, events, ids, markers). */
export async function jobKeys(redis: Redis, queue: string, prefix = 'bull'): Promise<string[]> {
  const keys = await redis.keys(`${prefix}:${queue}:*`);
  const own = new Set(['meta', 'events', 'id', 'marker', 'stalled-check', 'drained']);
  return keys.filter((key) => !own.has(key.slice(`${prefix}:${queue}:`.length))).sort();
}

/** Jobs of RedisPools (their ids start with `rp`) in the queue's keys: queued, running or finished. */
export async function poolJobs(redis: Redis, queue: string, prefix = 'bull'): Promise<number> {
  const keys = await redis.keys(`${prefix}:${queue}:rp*`);
  return keys.filter((key) => /:rp[0-9a-f]+-\d+$/.test(key)).length;
}

/** The numbers of the lines of `text` (a file a task appended to). */
export function lines(text: string): number[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number);
}
