/**
 * RedisPool against BullMQ used directly, in one run: `npx tsx bench/redis.ts [--quick] [--built] [--rounds N] [--json]`.
 * `npm run bench` runs it as its "RedisPool" workload (`--json --built`, a child of its own).
 *
 * A local redis-server (temp folder, free port) and worker host processes (`rxjs-pools worker`,
 * one thread each): A and B on the bench queue, C alone on another (the one-host baseline of the
 * spread run). Measured, interleaved over rounds, medians reported:
 *
 * - BullMQ direct, one job per item: the baseline, 2 in-process BullMQ Workers at
 *   concurrency 50, `addBulk` of 1,000 jobs, a QueueEvents listener, `removeOnComplete`.
 * - `pool.map(double, items)` and `from(items).pipe(mapOnPool(pool, double))`, at their defaults
 *   (both `chunksize: 'auto'` since issue 10).
 * - A 200 ms CPU-bound task, 16 items, through pool.map at its defaults: both hosts vs one.
 *
 * Targets (issue 9): ≥ 200k items/s and ≥ 50× BullMQ direct, for pool.map and mapOnPool at their
 * defaults; the 200 ms task spread over both hosts, speedup ≥ 1.7. `--built` runs everything from
 * dist/ (`npm run build` first): the hosts under plain node, the pool in this process; the default
 * runs both from source under tsx. `--json` ends with `@@RESULT {"rounds": [{system: items/s}], …}`
 * (the systems named as in bench/systems.ts) for bench/run.ts.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { from } from 'rxjs';
import { startRedis } from '../scripts/redis-server.ts';
import { repo, startHost, stopAllHosts } from '../scripts/worker-hosts.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, built: { type: 'boolean' }, rounds: { type: 'string' }, json: { type: 'boolean' } } });
const quick = values.quick ?? false;
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const built = values.built ?? false;
if (built && !existsSync(new URL('../dist/cli.js', import.meta.url))) {
  console.error('bench/redis.ts --built needs dist/: run `npm run build` first');
  process.exit(2);
}
// The library this process drives the pool with: the same build as the hosts'.
// dist/ is named by a computed URL: a clean clone has none, and the type check must not need one.
const fromDist = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href);
const { mapOnPool, task } = (built ? await fromDist('index.js') : await import('rxjs-pools')) as typeof import('rxjs-pools');
const { RedisPool } = (built ? await fromDist('redis/index.js') : await import('rxjs-pools/redis')) as typeof import('rxjs-pools/redis');
type RedisPool = InstanceType<typeof RedisPool>;
const N_TINY = quick ? 200_000 : 500_000;
const N_DIRECT = quick ? 5_000 : 10_000;
const N_SLOW = 16;
const SLOW_MS = 200;

const tasksUrl = new URL('./redis/tasks.mjs', import.meta.url);
const double = task<(x: number) => number>(tasksUrl, 'double');
const busy = task<(ms: number) => number>(tasksUrl, 'busy');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`RedisPool bench: ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}, hosts ${built ? 'built (node dist/cli.js)' : 'from source (tsx)'}, ${rounds} round(s)`);
const redis = await startRedis();
const started = performance.now();
await Promise.all([
  startHost(redis.url, 'bench', { name: 'A', threads: 1, built }),
  startHost(redis.url, 'bench', { name: 'B', threads: 1, built }),
  startHost(redis.url, 'one', { name: 'C', threads: 1, built }),
]);
console.log(`  redis-server and 3 worker hosts up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const pool = new RedisPool({ connection: redis.url, queue: 'bench', root: repo });
const single = new RedisPool({ connection: redis.url, queue: 'one', root: repo });
const items = Array.from({ length: N_TINY }, (_, i) => i);
const expectedSum = items.reduce((a, x) => a + 2 * x, 0);

// ── BullMQ direct, one job per item ────────────────────────────────────────────────────────────
const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
const directQueue = new Queue('direct', { connection });
const directEvents = new QueueEvents('direct', { connection });
await directEvents.waitUntilReady();
const workers = [0, 1].map(() => new Worker('direct', async (job) => (job.data as { x: number }).x * 2, { connection, concurrency: 50 }));
await Promise.all(workers.map((w) => w.waitUntilReady()));

async function direct(): Promise<number> {
  let done = 0;
  let sum = 0;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const onCompleted = ({ returnvalue }: { returnvalue: unknown }) => {
    sum += Number(returnvalue);
    if (++done === N_DIRECT) resolve();
  };
  directEvents.on('completed', onCompleted);
  const t0 = performance.now();
  for (let i = 0; i < N_DIRECT; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, N_DIRECT - i) }, (_, j) => ({ name: 'double', data: { x: i + j }, opts: { removeOnComplete: true } }));
    await directQueue.addBulk(batch);
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  directEvents.off('completed', onCompleted);
  if (sum !== N_DIRECT * (N_DIRECT - 1)) throw new Error(`BullMQ direct: wrong sum ${sum}`);
  return N_DIRECT / seconds;
}

async function viaMap(): Promise<number> {
  let sum = 0;
  const t0 = performance.now();
  for await (const y of pool.map(double, items)) sum += y;
  const seconds = (performance.now() - t0) / 1000;
  if (sum !== expectedSum) throw new Error(`pool.map: wrong sum ${sum}`);
  return N_TINY / seconds;
}

async function viaOperator(): Promise<number> {
  const t0 = performance.now();
  const sum = await new Promise<number>((resolve, reject) => {
    let s = 0;
    from(items)
      .pipe(mapOnPool(pool, double))
      .subscribe({ next: (y) => (s += y), error: reject, complete: () => resolve(s) });
  });
  const seconds = (performance.now() - t0) / 1000;
  if (sum !== expectedSum) throw new Error(`mapOnPool: wrong sum ${sum}`);
  return N_TINY / seconds;
}

/** A live feed: one record every LIVE_GAP_MS; the median time from a record's arrival to its result. */
const LIVE_N = 100;
const LIVE_GAP_MS = 5;
async function live(): Promise<number> {
  const arrived: number[] = [];
  async function* feed() {
    for (let i = 0; i < LIVE_N; i++) {
      await new Promise((r) => setTimeout(r, LIVE_GAP_MS));
      arrived.push(performance.now());
      yield i;
    }
  }
  const latencies: number[] = [];
  let i = 0;
  for await (const y of pool.map(double, feed())) {
    if (y !== i * 2) throw new Error('live: out of order');
    latencies.push(performance.now() - arrived[i++]!);
  }
  return median(latencies);
}

/** Items each host ran in the last slow() run: how evenly the spread went. */
let lastSplit: Record<string, number> = {};
async function slow(p: RedisPool): Promise<number> {
  const before = new Map([...p.hosts].map(([name, s]) => [name, s.items]));
  const t0 = performance.now();
  let n = 0;
  for await (const y of p.map(busy, Array.from({ length: N_SLOW }, () => SLOW_MS))) if (y === SLOW_MS) n++;
  if (n !== N_SLOW) throw new Error(`slow: ${n} results`);
  const seconds = (performance.now() - t0) / 1000;
  lastSplit = Object.fromEntries([...p.hosts].map(([name, s]) => [name, s.items - (before.get(name) ?? 0)]));
  return seconds;
}

// Warm-up: hosts load the task module, the pool measures both tasks.
for await (const _ of pool.map(double, items.slice(0, 50_000))) void _;
await slow(pool);
await slow(single);

const results = { direct: [] as number[], map: [] as number[], operator: [] as number[], live: [] as number[], two: [] as number[], one: [] as number[], twoSplit: [] as Record<string, number>[] };
for (let r = 0; r < rounds; r++) {
  results.direct.push(await direct());
  results.map.push(await viaMap());
  results.operator.push(await viaOperator());
  results.live.push(await live());
  results.two.push(await slow(pool));
  results.twoSplit.push(lastSplit);
  results.one.push(await slow(single));
}

const d = median(results.direct);
const m = median(results.map);
const o = median(results.operator);
const speedup = median(results.one) / median(results.two);
const hostsSplit = Object.fromEntries([...pool.hosts].map(([name, s]) => [name, s.items]));
const split = [...pool.hosts].map(([name, s]) => `${name} ${fmt(s.items)}`).join(', ');
console.log('');
console.log('| run | items | items/s (median) | ÷ BullMQ direct |');
console.log('|---|---:|---:|---:|');
console.log(`| BullMQ direct, one job per item (2 Workers × concurrency 50, addBulk 1,000, QueueEvents) | ${fmt(N_DIRECT)} | ${fmt(d)} | 1.0× |`);
console.log(`| RedisPool pool.map, defaults | ${fmt(N_TINY)} | ${fmt(m)} | ${(m / d).toFixed(1)}× |`);
console.log(`| RedisPool mapOnPool, defaults | ${fmt(N_TINY)} | ${fmt(o)} | ${(o / d).toFixed(1)}× |`);
console.log('');
console.log(`  live feed (one record every ${LIVE_GAP_MS} ms, pool.map defaults): median ${median(results.live).toFixed(1)} ms from a record's arrival to its result`);
console.log('');
console.log(`| ${SLOW_MS} ms CPU-bound task × ${N_SLOW}, pool.map defaults | seconds (median) |`);
console.log('|---|---:|');
console.log(`| one host (C) | ${median(results.one).toFixed(2)} |`);
console.log(`| two hosts (A, B) | ${median(results.two).toFixed(2)} |`);
console.log(`| speedup | ${speedup.toFixed(2)}× |`);
console.log('');
console.log(`  work split over the bench queue's hosts (items, all runs): ${split}`);
const check = (label: string, ok: boolean, detail: string) => console.log(`  ${ok ? 'met   ' : 'MISSED'} ${label}: ${detail}`);
check('pool.map ≥ 200k items/s', m >= 200_000, `${fmt(m)} items/s`);
check('mapOnPool ≥ 200k items/s', o >= 200_000, `${fmt(o)} items/s`);
check('pool.map ≥ 50× BullMQ direct', m / d >= 50, `${(m / d).toFixed(1)}×`);
check('mapOnPool ≥ 50× BullMQ direct', o / d >= 50, `${(o / d).toFixed(1)}×`);
check(`${SLOW_MS} ms task spread, speedup ≥ 1.7`, speedup >= 1.7, `${speedup.toFixed(2)}×`);

// ── everything this bench started goes ──────────────────────────────────────────────────────────
await Promise.all([pool.shutdown(), single.shutdown()]);
await Promise.all(workers.map((w) => w.close()));
await directEvents.close();
await directQueue.obliterate({ force: true });
await directQueue.close();
await stopAllHosts();
const check2 = new Redis(redis.url);
const left = await check2.keys('bull:bench:rp*');
check2.disconnect();
await redis.close();
if (left.length > 0) console.log(`  left in Redis: ${left.length} keys of the pool (expected none)`);
if (values.json) {
  // For bench/run.ts: every measurement as items/s (the slow task's too, so its ratio is the speedup).
  const rows = results.direct.map((_, r) => ({
    'redis-bullmq': { value: results.direct[r], items: N_DIRECT },
    'redis-map': { value: results.map[r], items: N_TINY, liveMs: results.live[r] },
    'redis-mapOnPool': { value: results.operator[r], items: N_TINY },
    'redis-slow-one': { value: N_SLOW / results.one[r]!, seconds: results.one[r], items: N_SLOW },
    'redis-slow-two': { value: N_SLOW / results.two[r]!, seconds: results.two[r], items: N_SLOW, split: results.twoSplit[r] },
  }));
  console.log(`@@RESULT ${JSON.stringify({ rounds: rows, hosts: hostsSplit, leftKeys: left.length })}`);
}
