/**
 * RedisPool and the Redis connection, against real redis-servers: unreachable or refusing the
 * password (a quick error naming the address, never the password), gone mid-run past the
 * reconnect deadline, restarted with and without persistence, and no worker host at all.
 */
import { inspect as show } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, BrokenPoolError } from 'rxjs-pools';
import { RedisPool, WorkerHost } from 'rxjs-pools/redis';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { inspect, jobKeys, lines, repo, t } from './helpers.ts';
import { until, childProcesses } from './hosts.ts';
import { freePort, startRedis, stopAllRedis } from './server.ts';

const SECRET = 'pw-s3cret-9f2c';
let dir: string;
const open: { shutdown(o?: { cancelPending?: boolean; wait?: boolean }): Promise<void> }[] = [];
const hosts: WorkerHost[] = [];

function pool(connection: string, queue: string, options: Partial<ConstructorParameters<typeof RedisPool>[0]> = {}): RedisPool {
  const p = new RedisPool({ connection, queue, root: repo, ...options });
  open.push(p);
  return p;
}

async function host(connection: string, queue: string): Promise<WorkerHost> {
  const h = new WorkerHost({ connection, queue, threads: 1, root: repo, lockDuration: 1000, stalledInterval: 500 });
  hosts.push(h);
  await h.start();
  return h;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-redis-conn-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.shutdown({ cancelPending: true, wait: false })));
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

afterAll(async () => {
  await stopAllRedis();
  expect(childProcesses()).toEqual([]); // no redis-server, no worker host left
  rmSync(dir, { recursive: true, force: true });
});

test('nothing listening on the port: submit rejects within 10 s, naming the address and never the password', async () => {
  const port = await freePort();
  const p = pool(`redis://app:${SECRET}@127.0.0.1:${port}`, 'q');
  const started = Date.now();
  const error = (await p.submit(t.double, [1]).catch((e: unknown) => e)) as BrokenPoolError;
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(error).toBeInstanceOf(BrokenPoolError);
  expect(error.message).toContain(`redis://127.0.0.1:${port}`);
  expect(error.message).toMatch(/ECONNREFUSED/);
  expect(show(error, { depth: 10 })).not.toContain(SECRET);
  expect(p.stats.state).toBe('broken');
  await expect(p.submit(t.double, [1])).rejects.toBe(error); // and every later task
});

test('a wrong password: submit rejects at once, naming the address and never the password', async () => {
  const redis = await startRedis({ password: 'the-right-one' });
  const p = pool(`redis://default:${SECRET}@127.0.0.1:${redis.port}`, 'q');
  const started = Date.now();
  const error = (await p.submit(t.double, [1]).catch((e: unknown) => e)) as BrokenPoolError;
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(error).toBeInstanceOf(BrokenPoolError);
  expect(error.message).toContain(`redis://127.0.0.1:${redis.port}`);
  expect(error.message).toMatch(/WRONGPASS|credentials/);
  expect(show(error, { depth: 10 })).not.toContain(SECRET);
  // And with the right one it works.
  const url = `redis://default:the-right-one@127.0.0.1:${redis.port}`;
  await host(url, 'q');
  expect(await pool(url, 'q').submit(t.double, [2])).toBe(4);
  await redis.close();
});

test('Redis gone mid-run and not back within reconnectTimeout: pending tasks reject with BrokenPoolError, the connection error as cause', async () => {
  const redis = await startRedis();
  await host(redis.url, 'q');
  const p = pool(redis.url, 'q', { reconnectTimeout: 1_000 });
  const file = join(dir, 'gone');
  writeFileSync(file, '');
  const pending = p.submit(t.record, [{ file, id: 1, ms: 5_000 }]).catch((e: unknown) => e);
  await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the job to start');
  const stopped = Date.now();
  await redis.stop();
  const error = (await pending) as BrokenPoolError;
  expect(error).toBeInstanceOf(BrokenPoolError);
  expect(error.message).toMatch(/lost its connection to Redis at redis:\/\/127\.0\.0\.1:\d+ and it was not back within 1 s/);
  expect((error.cause as Error).message).toMatch(/ECONNREFUSED|closed/);
  expect(Date.now() - stopped).toBeLessThan(5_000);
  await redis.close();
});

test('Redis restarted mid-run with --appendonly yes: the run completes, every item once and in order', async () => {
  const redis = await startRedis({ appendonly: true });
  await host(redis.url, 'q');
  const p = pool(redis.url, 'q');
  const items = Array.from({ length: 40 }, (_, i) => i);
  const out: number[] = [];
  let restarted = false;
  for await (const y of p.map(t.block, items.map(() => 30), { chunksize: 1, buffersize: 8 })) {
    out.push(y);
    if (out.length === 10 && !restarted) {
      restarted = true;
      await redis.restart(); // SIGTERM: Redis writes its append-only file, then comes back with it
    }
  }
  expect(out).toEqual(items.map(() => 30));
  expect(restarted).toBe(true);
  await p.shutdown();
  const raw = inspect(redis.url);
  expect(await jobKeys(raw, 'q')).toEqual([]);
  raw.disconnect();
  await redis.close();
}, 30_000);

test('Redis restarted mid-run without persistence: BrokenPoolError within 5 s of the restart, not a wait forever', async () => {
  const redis = await startRedis();
  await host(redis.url, 'q');
  const p = pool(redis.url, 'q');
  const file = join(dir, 'no-persistence');
  writeFileSync(file, '');
  const pending = p.submit(t.record, [{ file, id: 1, ms: 3_000 }]).catch((e: unknown) => e);
  await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the job to start');
  await redis.restart();
  const back = Date.now();
  const error = (await pending) as BrokenPoolError;
  expect(error).toBeInstanceOf(BrokenPoolError);
  expect(error.message).toMatch(/no longer holds 1 of this pool's jobs: it restarted without persistence/);
  expect(Date.now() - back).toBeLessThan(5_000);
  expect(lines(readFileSync(file, 'utf8'))).toEqual([1]);
  await redis.close();
}, 30_000);

test('no worker host at all: submit waits (queued in Redis, shown by stats); a signal bounds the wait', async () => {
  const redis = await startRedis();
  const p = pool(redis.url, 'nobody');
  const pending = p.submit(t.double, [1], { signal: AbortSignal.timeout(1_500) });
  await until(() => p.stats.queued === 1, 5_000, 'the job to be queued');
  const raw = inspect(redis.url);
  await until(async () => (await jobKeys(raw, 'nobody')).some((k) => k.endsWith(':wait')), 5_000, 'the job to wait in Redis');
  expect(p.stats).toMatchObject({ state: 'open', workers: 0, busy: 0, queued: 1, completed: 0 });
  const error = (await pending.catch((e: unknown) => e)) as AbortError;
  expect(error).toBeInstanceOf(AbortError);
  expect((error.cause as Error).name).toBe('TimeoutError');
  await until(async () => (await jobKeys(raw, 'nobody')).length === 0, 5_000, 'the job to be removed');
  expect(p.stats).toMatchObject({ queued: 0, cancelled: 1 });
  raw.disconnect();
  await redis.close();
});
