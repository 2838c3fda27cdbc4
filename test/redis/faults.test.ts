/**
 * Worker hosts that die or stop, against a real redis-server and real host processes: a SIGKILL
 * mid-run loses nothing and emits nothing twice; a job whose hosts keep dying fails with
 * WorkerLostError; SIGTERM hands back what a host holds and exits 0, within 10 s even while Redis
 * is down; a reader too slow for the event stream still gets every result.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisPool, WorkerHost, WorkerLostError } from 'rxjs-pools/redis';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { inspect, jobKeys, lines, repo, t } from './helpers.ts';
import { FAST_STALL, startHost, stopAllHosts, until, type Host, childProcesses } from './hosts.ts';
import { startRedis, stopAllRedis, type RedisServer } from './server.ts';

let redis: RedisServer;
let raw: Redis;
let dir: string;
const open: RedisPool[] = [];
const hosts: Record<string, Host> = {};

function pool(queue: string, options: Partial<ConstructorParameters<typeof RedisPool>[0]> = {}): RedisPool {
  const p = new RedisPool({ connection: redis.url, queue, root: repo, ...options });
  open.push(p);
  return p;
}

// The tests run in this order and share these hosts (a host process costs seconds to start):
// A and B on 'main' (A is SIGKILLed; B serves the slow reader, then is SIGTERMed with Redis down),
// X and Y on 'lost' (both die), G on 'term' (SIGTERMed).
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-redis-faults-'));
  redis = await startRedis();
  raw = inspect(redis.url);
  const lost = [...FAST_STALL, '--max-stalled-count', '1', '--prefetch', '0'];
  const started = await Promise.all([
    startHost(redis.url, 'main', { name: 'A', threads: 1, args: [...FAST_STALL, '--prefetch', '1'] }),
    startHost(redis.url, 'main', { name: 'B', threads: 1, args: [...FAST_STALL, '--prefetch', '1'] }),
    startHost(redis.url, 'lost', { name: 'X', threads: 1, args: lost }),
    startHost(redis.url, 'lost', { name: 'Y', threads: 1, args: lost }),
    startHost(redis.url, 'term', { name: 'G', threads: 1, args: ['--prefetch', '1', '--grace', '5000'] }),
  ]);
  for (const host of started) hosts[host.name] = host;
}, 60_000);

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.shutdown({ cancelPending: true })));
});

afterAll(async () => {
  raw?.disconnect();
  await stopAllHosts();
  await stopAllRedis();
  expect(childProcesses()).toEqual([]); // no redis-server, no worker host left
  rmSync(dir, { recursive: true, force: true });
});

test('a host SIGKILLed mid-run: every item comes out once, in order; re-runs are at most what it held; the run goes on', async () => {
  const a = hosts.A!;
  const p = pool('main');
  const file = join(dir, 'kill-runs');
  writeFileSync(file, '');
  const items = Array.from({ length: 60 }, (_, id) => ({ file, id, ms: 40 }));
  const out: number[] = [];
  let killedAt = 0;
  let resumedAfter = 0;
  for await (const y of p.map(t.record, items, { chunksize: 1, buffersize: 16 })) {
    if (killedAt && !resumedAfter && out.length > 15) resumedAfter = Date.now() - killedAt;
    out.push(y);
    if (out.length === 15) {
      a.kill('SIGKILL');
      killedAt = Date.now();
    }
  }
  expect(out).toEqual(items.map((item) => item.id)); // nothing lost, nothing twice, in order
  expect((await a.exited).signal).toBe('SIGKILL');
  const runs = lines(readFileSync(file, 'utf8'));
  const reruns = runs.length - new Set(runs).size;
  // A held at most 1 running + 1 prefetched job (of one item each); only a started one re-runs.
  expect(reruns).toBeLessThanOrEqual(2);
  expect(p.redelivered).toBeLessThanOrEqual(2);
  expect(resumedAfter).toBeLessThan(15_000);
  expect(p.hosts.get('B')?.items).toBeGreaterThan(15);
  await p.shutdown();
  expect(await jobKeys(raw, 'main')).toEqual([]);
}, 40_000);

test('a job whose hosts keep dying fails with WorkerLostError once it stalled more than maxStalledCount times', async () => {
  const p = pool('lost');
  const file = join(dir, 'lost-runs');
  writeFileSync(file, '');
  const lost = p.submit(t.killHost, [file]).catch((e: unknown) => e);
  // X or Y takes it and dies; the other re-delivers it to itself (maxStalledCount 1) and dies too.
  await Promise.all([hosts.X!.exited, hosts.Y!.exited]);
  expect(lines(readFileSync(file, 'utf8')).length).toBe(2);
  // A third host finds it stalled again, past the limit.
  const z = new WorkerHost({ connection: redis.url, queue: 'lost', threads: 1, root: repo, lockDuration: 1000, stalledInterval: 500, maxStalledCount: 1 });
  await z.start();
  try {
    const error = (await lost) as WorkerLostError;
    expect(error).toBeInstanceOf(WorkerLostError);
    expect(error.message).toMatch(/stalled .* more than maxStalledCount times/);
    expect(error.jobId).toMatch(new RegExp(`^${p.id}-`));
    expect(lines(readFileSync(file, 'utf8')).length).toBe(2); // it never ran a third time
  } finally {
    await z.close();
  }
  await p.shutdown();
  expect(await jobKeys(raw, 'lost')).toEqual([]);
}, 40_000);

test('SIGTERM: the host finishes its running job, hands back the prefetched one, and exits 0; nothing is lost', async () => {
  const g = hosts.G!;
  const p = pool('term');
  const file = join(dir, 'term-runs');
  writeFileSync(file, '');
  const results = [0, 1, 2].map((id) => p.submit(t.record, [{ file, id, ms: 800 }]));
  await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the first job to start');
  const sent = Date.now();
  g.kill('SIGTERM');
  const exit = await g.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(Date.now() - sent).toBeLessThan(10_000);
  expect(await results[0]).toBe(0); // finished before the host left
  expect(g.stderr()).toMatch(/handed back/);
  // Another host takes the rest; each job ran exactly once.
  const h = new WorkerHost({ connection: redis.url, queue: 'term', threads: 1, root: repo });
  await h.start();
  try {
    expect(await Promise.all(results)).toEqual([0, 1, 2]);
    expect(lines(readFileSync(file, 'utf8')).sort()).toEqual([0, 1, 2]);
  } finally {
    await h.close();
  }
}, 40_000);

test('a reader slower than the event stream still gets every result: one trimmed before it was read comes from its job', async () => {
  // B: one thread, so the flood's jobs run after ours.
  const p = pool('main', { maxEvents: 100 });
  const file = join(dir, 'slow-runs');
  writeFileSync(file, '');
  const result = p.submit(t.record, [{ file, id: 42, ms: 400 }]);
  await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the job to start');
  // While this process is blocked (a busy reader), another client runs 200 jobs on the queue:
  // their events trim the stream (maxEvents 100) past our job's 'completed' entry.
  const flood = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(repo, 'test/redis/fixtures/flood.ts'), redis.url, 'main', '200'],
    { cwd: repo, encoding: 'utf8', timeout: 30_000 },
  );
  expect(flood.stderr).toBe('');
  const [floodId, n] = flood.stdout.trim().split(' ');
  expect(n).toBe('200');
  // Our job ran first (one thread, no prefetch), so every flood event came after its completion:
  // the stream now starts with flood events, and none of ours is left in it.
  const jobIds = (await raw.xrange('bull:main:events', '-', '+')).map(([, fields]) => fields[fields.indexOf('jobId') + 1] ?? '');
  expect(jobIds.find(Boolean)?.startsWith(floodId!)).toBe(true);
  expect(jobIds.filter((id) => id.startsWith(p.id))).toEqual([]);
  expect(await result).toBe(42); // … and the result still arrives
  expect(await jobKeys(raw, 'main')).toEqual([]);
}, 40_000);

test('SIGTERM while Redis is down: the host still exits 0 within 10 s (last: it stops this suite\'s Redis)', async () => {
  const b = hosts.B!;
  const p = pool('main', { reconnectTimeout: 60_000 });
  const file = join(dir, 'down-runs');
  writeFileSync(file, '');
  const running = p.submit(t.record, [{ file, id: 1, ms: 20_000 }]).catch((e: unknown) => e);
  await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the job to start');
  await redis.stop();
  await b.waitFor(/lost Redis/);
  const sent = Date.now();
  b.kill('SIGTERM');
  expect(await b.exited).toEqual({ code: 0, signal: null });
  expect(Date.now() - sent).toBeLessThan(10_000);
  await p.shutdown({ wait: false, cancelPending: true });
  open.splice(open.indexOf(p), 1);
  void running;
}, 40_000);
