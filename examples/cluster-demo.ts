/**
 * From one machine to many, on this one: `npm run demo:cluster` (npx tsx examples/cluster-demo.ts).
 *
 * Starts a redis-server (a temp folder, a free port) and two worker hosts (`rxjs-pools worker`,
 * separate processes, as two machines would run them), then runs the ETL example's feed (card
 * transactions as NDJSON → parse → enrich → NDJSON, examples/etl-tasks.ts) twice: on the main
 * thread, and through a RedisPool with the same `stream.pipeline` + `mapStream` as the ThreadPool
 * version in examples/etl-feed.ts. Prints the time of each, the speedup, how the records were
 * split over the hosts, and checks both outputs are identical. Everything it started is stopped
 * at the end (and on Ctrl-C).
 *
 * Options: --records N (default 8000), --threads N per host (default 1: two hosts on a 2-CPU box).
 * Needs redis-server (`apt-get install -y redis-server`), bullmq and ioredis (dev dependencies).
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { task } from 'rxjs-pools';
import { RedisPool } from 'rxjs-pools/redis';
import { mapStream, parseNdjson, splitLines, stringifyNdjson } from '../src/streams/index.ts';
import { startRedis, type RedisServer } from '../scripts/redis-server.ts';
import { repo, startHost, stopAllHosts, type Host } from '../scripts/worker-hosts.ts';
import { digest, feed } from './etl-data.ts';
import { enrich, type Transaction } from './etl-tasks.ts';

const { values } = parseArgs({ options: { records: { type: 'string' }, threads: { type: 'string' } } });
const records = Number(values.records ?? 8_000);
const threads = Number(values.threads ?? 1);
if (!(Number.isInteger(records) && records > 0 && Number.isInteger(threads) && threads > 0)) {
  console.error('usage: cluster-demo.ts [--records N] [--threads N]');
  process.exit(2);
}

const enrichOnHost = task<typeof enrich>(new URL('./etl-tasks.ts', import.meta.url), 'enrich');
const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-cluster-'));

// ── what this demo starts, and stops whatever happens ───────────────────────────────────────────

let redis: RedisServer | undefined;
let pool: RedisPool | undefined;
let hosts: Host[] = [];
async function cleanUp(): Promise<void> {
  await pool?.shutdown({ cancelPending: true }).catch(() => {});
  for (const host of hosts) host.kill('SIGTERM');
  await Promise.all(hosts.map((host) => host.exited));
  await stopAllHosts();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

try {
  const t0 = performance.now();
  redis = await startRedis();
  hosts = await Promise.all(
    ['host-1', 'host-2'].map((name) => startHost(redis!.url, 'etl', { name, threads, env: { ...process.env, NODE_EXTRA_CA_CERTS: undefined } })),
  );
  console.log(`Cluster demo: redis-server on ${redis.url} and 2 worker hosts (rxjs-pools worker --queue etl --threads ${threads}), up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`ETL feed: ${records.toLocaleString('en-US')} card transactions (NDJSON) → parse → enrich (tokenise card, risk score) → NDJSON`);
  console.log(`  ${availableParallelism()} CPUs on this machine: the hosts share them here; on real machines each brings its own`);

  const row = (label: string, seconds: number, extra = '') =>
    console.log(`  ${label.padEnd(30)} ${seconds.toFixed(2).padStart(6)} s ${Math.round(records / seconds).toLocaleString('en-US').padStart(8)} records/s${extra}`);

  const mainOut = join(dir, 'main-thread.ndjson');
  let started = performance.now();
  await pipeline(
    Readable.from(feed(records)),
    splitLines(),
    parseNdjson<Transaction>(),
    async function* (txs) {
      for await (const tx of txs) yield enrich(tx);
    },
    stringifyNdjson(),
    createWriteStream(mainOut),
  );
  const base = (performance.now() - started) / 1000;
  row('main thread', base);

  pool = new RedisPool({ connection: redis.url, queue: 'etl', root: repo });
  // Warm up as a long-running feed would be: both hosts load the task module, the pool measures it.
  const warm = [...feed(400)].join('').trim().split('\n').map((line) => JSON.parse(line) as Transaction);
  for await (const _ of pool.map(enrichOnHost, warm)) void _;
  const before = pool.hosts;

  const clusterOut = join(dir, 'cluster.ndjson');
  started = performance.now();
  await pipeline(Readable.from(feed(records)), splitLines(), parseNdjson<Transaction>(), mapStream(pool, enrichOnHost), stringifyNdjson(), createWriteStream(clusterOut));
  const seconds = (performance.now() - started) / 1000;
  row('2 worker hosts: RedisPool', seconds, `  ${(base / seconds).toFixed(2)}× the main thread`);

  const split = [...pool.hosts].map(([name, s]) => {
    const items = s.items - (before.get(name)?.items ?? 0);
    const jobs = s.jobs - (before.get(name)?.jobs ?? 0);
    return `${name} ${items.toLocaleString('en-US')} records in ${jobs} jobs (${((100 * items) / records).toFixed(0)} %)`;
  });
  console.log(`  per worker host: ${split.join(', ')}`);
  const [a, b] = await Promise.all([digest(mainOut), digest(clusterOut)]);
  if (a === b) console.log(`  outputs identical: ${(statSync(mainOut).size / 1e6).toFixed(1)} MB each, sha256 ${a.slice(0, 16)}…`);
  else {
    console.log(`  outputs DIFFER: ${a} ${b}`);
    process.exitCode = 1;
  }
} finally {
  await cleanUp();
  console.log('  stopped the worker hosts and redis-server, removed their folder');
}
