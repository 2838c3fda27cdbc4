/**
 * RedisPool on healthy hosts, against a real redis-server: the executor semantics of the local
 * pools (order, errors, laziness, cancellation, timeouts, shutdown), the same operators, task
 * identity across machines, and nothing of the pool left in Redis afterwards.
 */
import { spawnSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { AbortError, PoolShutdownError, TaskTimeoutError, mapOnPool } from 'rxjs-pools';
import { RedisPool, WorkerHost } from 'rxjs-pools/redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspect, jobKeys, lines, poolJobs, repo, t } from './helpers.ts';
import { startHost, stopAllHosts, until, childProcesses } from './hosts.ts';
import { startRedis, stopAllRedis, type RedisServer } from './server.ts';

let redis: RedisServer;
let raw: Redis;
let dir: string;
const Q = 'work';
const open: RedisPool[] = [];

function pool(options: Partial<ConstructorParameters<typeof RedisPool>[0]> = {}): RedisPool {
  const p = new RedisPool({ connection: redis.url, queue: Q, root: repo, ...options });
  open.push(p);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-redis-test-'));
  redis = await startRedis();
  raw = inspect(redis.url);
  // Two hosts on the main queue, as two machines would be.
  await Promise.all([startHost(redis.url, Q, { name: 'A', threads: 1 }), startHost(redis.url, Q, { name: 'B', threads: 1 })]);
}, 30_000);

afterAll(async () => {
  await Promise.all(open.map((p) => p.shutdown({ cancelPending: true })));
  raw?.disconnect();
  await stopAllHosts();
  await stopAllRedis();
  expect(childProcesses()).toEqual([]); // no redis-server, no worker host left
  rmSync(dir, { recursive: true, force: true });
});

describe('results and errors', () => {
  test('submit returns what the task returns, with several arguments', async () => {
    const p = pool();
    expect(await p.submit(t.double, [21])).toBe(42);
    expect(await p.submit(t.add, [2, 3])).toBe(5);
    expect(p.maxWorkers).toBe(64);
    expect(p.batching(t.double).concurrency).toBe(64);
  });

  test("a task's error keeps its class (built-in base), name, message, code, own fields, cause and remote stack", async () => {
    const p = pool();
    const error = (await p.submit(t.check, [-1]).catch((e: unknown) => e)) as TypeError & { code: string; field: string; cause: Error };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('negative: -1');
    expect(error.code).toBe('E_NEGATIVE');
    expect(error.field).toBe('amount');
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.cause.message).toBe('below zero');
    expect(error.stack).toContain('fixtures/tasks.ts'); // the stack of the host's worker, not ours
    expect(p.stats.failed).toBe(1);
  });

  test('pool.map yields in input order, the same as a plain map, with the work spread over both hosts', async () => {
    const p = pool();
    const input = Array.from({ length: 400 }, (_, i) => i);
    const out: number[] = [];
    for await (const y of p.map(t.double, input, { chunksize: 5 })) out.push(y);
    expect(out).toEqual(input.map((x) => x * 2));
    expect([...p.hosts.keys()].sort()).toEqual(['A', 'B']);
    expect(p.stats.completed).toBe(400);
  });

  test('pool.map throws the first failed item after every earlier result, and runs nothing after it', async () => {
    const p = pool();
    const file = join(dir, 'first-error');
    writeFileSync(file, '');
    const items = [1, 2, 3, -4, 5, 6].map((id) => ({ file, id, ms: id === -4 ? 200 : 0 }));
    const seen: number[] = [];
    const check = async () => {
      for await (const y of p.map(t.record, items, { chunksize: 1, buffersize: 1 })) seen.push(y);
    };
    // record() returns the id; -4 is not an error for it, so use check() for the error case below.
    await check();
    expect(seen).toEqual([1, 2, 3, -4, 5, 6]);
    const out: number[] = [];
    const error = await (async () => {
      for await (const y of p.map(t.check, [1, 2, 3, -4, 5, 6], { chunksize: 2 })) out.push(y);
    })().catch((e: unknown) => e);
    expect(out).toEqual([1, 2, 3]);
    expect((error as Error).message).toBe('negative: -4');
  });

  test('mapOnPool works on a RedisPool as is, ordered, at its defaults', async () => {
    const p = pool();
    const out = await lastValueFrom(from(Array.from({ length: 300 }, (_, i) => i)).pipe(mapOnPool(p, t.double), toArray()));
    expect(out).toEqual(Array.from({ length: 300 }, (_, i) => i * 2));
  });
});

describe('laziness and cancellation', () => {
  test('pool.map reads at most buffersize items ahead of its consumer', async () => {
    const p = pool();
    let read = 0;
    function* source() {
      for (let i = 0; i < 1_000; i++) {
        read++;
        yield i;
      }
    }
    const buffersize = 20;
    let consumed = 0;
    let maxAhead = 0;
    for await (const y of p.map(t.double, source(), { chunksize: 4, buffersize })) {
      expect(y).toBe(consumed * 2);
      consumed++;
      maxAhead = Math.max(maxAhead, read - consumed);
      if (consumed === 100) break;
    }
    expect(maxAhead).toBeLessThanOrEqual(buffersize);
    expect(read).toBeLessThanOrEqual(100 + buffersize);
  });

  test('leaving the loop early cancels the rest: nothing of the pool stays in Redis', async () => {
    const p = pool();
    const file = join(dir, 'early-exit');
    writeFileSync(file, '');
    const items = Array.from({ length: 50 }, (_, id) => ({ file, id, ms: 20 }));
    for await (const y of p.map(t.record, items, { chunksize: 1, buffersize: 50 })) {
      expect(y).toBe(0);
      break;
    }
    expect(p.stats.cancelled).toBeGreaterThan(0);
    await until(async () => (await jobKeys(raw, Q)).length === 0, 10_000, 'the cancelled jobs to leave Redis');
    const ran = lines(readFileSync(file, 'utf8')).length;
    expect(ran).toBeLessThan(50); // the withdrawn ones never ran
  });

  test('a signal on a job waiting in Redis removes it: it never runs', async () => {
    const p = pool({ queue: 'idle' }); // no host on this queue yet
    const file = join(dir, 'never-runs');
    writeFileSync(file, '');
    const controller = new AbortController();
    const pending = p.submit(t.record, [{ file, id: 1 }], { signal: controller.signal });
    await until(() => p.stats.queued === 1, 5_000, 'the job to be queued');
    await until(async () => (await jobKeys(raw, 'idle')).length > 0, 5_000, 'the job to reach Redis');
    controller.abort(new Error('changed my mind'));
    const error = (await pending.catch((e: unknown) => e)) as AbortError;
    expect(error).toBeInstanceOf(AbortError);
    expect((error.cause as Error).message).toBe('changed my mind');
    await until(async () => (await jobKeys(raw, 'idle')).length === 0, 5_000, 'the job to be removed');
    // A host now arrives: it runs the next job, not the withdrawn one.
    const host = new WorkerHost({ connection: redis.url, queue: 'idle', threads: 1, root: repo });
    try {
      await host.start();
      expect(await p.submit(t.record, [{ file, id: 2 }])).toBe(2);
      expect(lines(readFileSync(file, 'utf8'))).toEqual([2]);
    } finally {
      await host.close();
    }
  });

  test('a signal on a running job stops it on its host (the local pool replaces the worker) and rejects at once', async () => {
    const p = pool();
    const file = join(dir, 'running-abort');
    writeFileSync(file, '');
    const controller = new AbortController();
    const started = Date.now();
    const pending = p.submit(t.record, [{ file, id: 7, ms: 10_000 }], { signal: controller.signal });
    await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the task to start');
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    // The host stopped it (else the job would hold its lock for 10 s) and the pool removed it.
    await until(async () => (await jobKeys(raw, Q)).length === 0, 5_000, 'the stopped job to leave Redis');
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(await p.submit(t.double, [1])).toBe(2); // the hosts still serve
  });

  test('timeout is a running time on the host: TaskTimeoutError, for a call and for a batch', async () => {
    const p = pool();
    const error = (await p.submit(t.block, [5_000], { timeout: 200 }).catch((e: unknown) => e)) as TaskTimeoutError;
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error.timeout).toBe(200);
    const batch = await (async () => {
      for await (const _ of p.map(t.block, [5_000], { timeout: 200, chunksize: 1 })) void _;
    })().catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(TaskTimeoutError);
    expect(await p.submit(t.double, [4])).toBe(8);
  });

  test('shutdown({ cancelPending }) removes what no host started; a running job keeps its result', async () => {
    const p = pool({ queue: 'solo', maxInFlight: 8 });
    const host = new WorkerHost({ connection: redis.url, queue: 'solo', threads: 1, prefetch: 0, root: repo });
    await host.start();
    try {
      const file = join(dir, 'cancel-pending');
      writeFileSync(file, '');
      const jobs = Array.from({ length: 6 }, (_, id) => p.submit(t.record, [{ file, id, ms: 300 }]).then((v) => ({ v }), (e: unknown) => ({ e })));
      await until(() => readFileSync(file, 'utf8') !== '', 10_000, 'the first job to start');
      await p.shutdown({ cancelPending: true });
      const outcomes = await Promise.all(jobs);
      expect(outcomes[0]).toEqual({ v: 0 });
      const cancelled = outcomes.filter((o) => 'e' in o && o.e instanceof AbortError).length;
      expect(cancelled).toBeGreaterThanOrEqual(4); // at most one more had started meanwhile
      expect(lines(readFileSync(file, 'utf8')).length).toBe(6 - cancelled);
      expect(await jobKeys(raw, 'solo')).toEqual([]);
      expect(p.stats.state).toBe('closed');
      await expect(p.submit(t.double, [1])).rejects.toBeInstanceOf(PoolShutdownError);
    } finally {
      await host.close();
    }
  });
});

describe('bounds', () => {
  test('maxInFlight bounds the jobs the pool keeps in Redis; the rest wait here and count as queued', async () => {
    const p = pool({ maxInFlight: 3 });
    expect(p.maxWorkers).toBe(3);
    const all = Promise.all(Array.from({ length: 12 }, () => p.submit(t.block, [60])));
    let most = 0;
    let sawLocal = false;
    const done = all.then(() => true);
    while (!(await Promise.race([done, new Promise<false>((resolve) => setTimeout(() => resolve(false), 10))]))) {
      most = Math.max(most, await poolJobs(raw, Q));
      if (p.stats.queued > 3) sawLocal = true;
    }
    expect(most).toBeLessThanOrEqual(3);
    expect(sawLocal).toBe(true);
  });

  test('a worker host holds no more jobs than its local pool runs plus its prefetch', async () => {
    const host = new WorkerHost({ connection: redis.url, queue: 'bounded', threads: 1, prefetch: 1, root: repo });
    await host.start();
    try {
      const p = pool({ queue: 'bounded' });
      const all = Promise.all(Array.from({ length: 6 }, () => p.submit(t.block, [150])));
      let held = 0;
      let active = 0;
      const done = all.then(() => true);
      while (!(await Promise.race([done, new Promise<false>((resolve) => setTimeout(() => resolve(false), 10))]))) {
        held = Math.max(held, host.status.held);
        active = Math.max(active, await raw.llen('bull:bounded:active'));
      }
      expect(held).toBe(2); // one running on its thread, one prefetched
      expect(active).toBeLessThanOrEqual(2);
    } finally {
      await host.close();
    }
  });

  test('arguments over maxPayloadBytes are refused before they reach Redis', async () => {
    const p = pool({ maxPayloadBytes: 1_000 });
    const error = await p.submit(t.bytes, ['x'.repeat(5_000) as unknown as number]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/serialise to 4\.9 KiB, over `maxPayloadBytes` \(1000 bytes\)/);
    expect(await raw.xlen(`bull:${Q}:events`).then(async () => jobKeys(raw, Q))).toEqual([]);
  });

  test("a result over the host's maxPayloadBytes fails with a RangeError naming it", async () => {
    const host = new WorkerHost({ connection: redis.url, queue: 'small', threads: 1, root: repo, maxPayloadBytes: 10_000 });
    await host.start();
    try {
      const p = pool({ queue: 'small' });
      expect((await p.submit(t.bytes, [100])).length).toBe(100);
      const error = await p.submit(t.bytes, [50_000]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(/result of task bytes serialises to .* over the worker host's maxPayloadBytes/);
    } finally {
      await host.close();
    }
  });

  test('after a run no job or lock of the pool is left, and the event stream stays under maxEvents (+ one stream node)', async () => {
    const p = pool({ maxEvents: 200 });
    // 150 calls, a job each (calls are never merged): about 5 events a job, so 750 events in all.
    const out = await Promise.all(Array.from({ length: 150 }, (_, i) => p.submit(t.double, [i])));
    expect(out).toEqual(Array.from({ length: 150 }, (_, i) => i * 2));
    await p.shutdown();
    expect(await jobKeys(raw, Q)).toEqual([]);
    // BullMQ trims with MAXLEN ~: whole stream nodes (100 entries) at a time.
    expect(await raw.xlen(`bull:${Q}:events`)).toBeLessThanOrEqual(200 + 100);
  });
});

describe('nothing left behind', () => {
  test('after shutdown the pool holds no socket, timer or listener: the process could exit', async () => {
    const before = process.getActiveResourcesInfo();
    const p = new RedisPool({ connection: redis.url, queue: Q, root: repo });
    const controller = new AbortController();
    expect(await p.submit(t.double, [5], { signal: controller.signal })).toBe(10);
    expect(process.getActiveResourcesInfo().length).toBeGreaterThan(before.length); // its connections …
    await p.shutdown();
    const extra = () => {
      const left = [...process.getActiveResourcesInfo()];
      for (const r of before) {
        const i = left.indexOf(r);
        if (i >= 0) left.splice(i, 1);
      }
      return left;
    };
    await until(() => extra().length === 0, 5_000, `the pool's handles to close (left: ${extra().join(', ')})`); // … are gone
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
  });
});

describe('task identity across machines', () => {
  test('an inline function is refused by a host without --allow-inline; the error names the flag', async () => {
    const p = pool();
    const error = (await p.submit((x: number) => x + 1, [1]).catch((e: unknown) => e)) as TypeError & { code: string };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INLINE_REFUSED');
    expect(error.message).toMatch(/refuses inline functions.*--allow-inline/);
  });

  test('an inline function runs on a host started with allowInline', async () => {
    const host = new WorkerHost({ connection: redis.url, queue: 'inline', threads: 1, root: repo, allowInline: true });
    await host.start();
    try {
      const p = pool({ queue: 'inline' });
      expect(await p.submit((x: number) => x + 1, [1])).toBe(2);
      expect(await lastValueFrom(from([1, 2, 3]).pipe(mapOnPool(p, (x: number) => x * 10), toArray()))).toEqual([10, 20, 30]);
    } finally {
      await host.close();
    }
  });

  test('a module outside the pool’s root is refused at submit; one the host cannot find under its --root says so', async () => {
    const outside = join(dir, 'outside.mjs');
    writeFileSync(outside, 'export const f = (x) => x;\n');
    const { task } = await import('rxjs-pools');
    const p = pool();
    const refused = await p.submit(task<(x: number) => number>(outside, 'f'), [1]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as Error).message).toMatch(/is outside the code root .*pass the `root` option/);
    // Under this pool's root (the temp folder), but the hosts look under theirs (the repo).
    const elsewhere = pool({ root: dir });
    const missing = (await elsewhere.submit(task<(x: number) => number>(outside, 'f'), [1]).catch((e: unknown) => e)) as Error & { code: string };
    expect(missing.code).toBe('ERR_TASK_NOT_FOUND');
    expect(missing.message).toMatch(/outside\.mjs was not found under this host's code root/);
    appendFileSync(outside, '');
  });
});

describe('the map command', () => {
  const cli = join(repo, 'src/cli.ts');
  // tsx by path: the second run's working directory is outside the repo.
  const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
  const run = (args: string[], cwd: string, input: string) =>
    spawnSync(process.execPath, ['--import', tsx, cli, ...args], { cwd, input, encoding: 'utf8', timeout: 30_000 });

  test('rxjs-pools map … --redis URL --queue NAME runs the records on the worker hosts, in order', () => {
    const records = Array.from({ length: 60 }, (_, i) => ({ id: i + 1, qty: (i % 5) + 1, price: i / 10 }));
    const result = run(['map', 'test/etl/fixtures/tasks.mjs', 'enrich', '--redis', redis.url, '--queue', Q], repo, records.map((r) => JSON.stringify(r)).join('\n'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: number; total: number });
    expect(out.map((r) => r.id)).toEqual(records.map((r) => r.id));
    expect(out[3]!.total).toBe(Math.round(records[3]!.qty * records[3]!.price * 100) / 100);
  });

  test("a module the hosts cannot find under their --root ends the run (exit 2) with the host's reason", () => {
    writeFileSync(join(dir, 'only-here.mjs'), 'export const f = (x) => x;\n');
    const result = run(['map', 'only-here.mjs', 'f', '--redis', redis.url, '--queue', Q], dir, '1\n2\n3\n');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/only-here\.mjs was not found under this host's code root/);
  });
});
