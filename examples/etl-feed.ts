/**
 * A live ETL feed, end to end, in one line: `npx tsx examples/etl-feed.ts` (or `npm run example:etl`).
 *
 * A generated NDJSON stream of card transactions is split into lines, parsed, enriched with a
 * CPU-heavy step (card tokenisation and a risk score, examples/etl-tasks.ts) and written out as
 * NDJSON, three ways: all on the main thread; through a ThreadPool with `mapStream` (the pull
 * path, `pool.map` inside `stream.pipeline`); and through `mapOnPool` with `pipeThroughOperator`
 * (the RxJS path). Backpressure holds on both ends in every case. It prints each run's time, the
 * speedup over the main thread, the pool's utilization, and checks that the outputs are identical.
 *
 * Options: --records N (default 8000), --threads N (default: the CPUs available), --keep (keep the
 * output files).
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { map } from 'rxjs';
import { ThreadPool, mapOnPool, task } from 'rxjs-pools';
import { poolStats, type PoolStatsSample } from '../src/stats/index.ts';
import { mapStream, parseNdjson, pipeThroughOperator, splitLines, stringifyNdjson } from '../src/streams/index.ts';
import { digest, feed } from './etl-data.ts';
import { enrich, type Transaction } from './etl-tasks.ts';

const { values } = parseArgs({ options: { records: { type: 'string' }, threads: { type: 'string' }, keep: { type: 'boolean' } } });
const records = Number(values.records ?? 8_000);
const threads = Number(values.threads ?? availableParallelism());
if (!(Number.isInteger(records) && records > 0 && Number.isInteger(threads) && threads > 0)) {
  console.error('usage: etl-feed.ts [--records N] [--threads N] [--keep]');
  process.exit(2);
}

const enrichOnWorker = task<typeof enrich>(new URL('./etl-tasks.ts', import.meta.url), 'enrich');
const warmUp = task<() => boolean>(new URL('./etl-tasks.ts', import.meta.url), 'ready');
const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-etl-'));

// ── the three pipelines ─────────────────────────────────────────────────────────────────────────

async function mainThread(out: string): Promise<void> {
  await pipeline(
    Readable.from(feed(records)),
    splitLines(),
    parseNdjson<Transaction>(),
    async function* (txs) {
      for await (const tx of txs) yield enrich(tx);
    },
    stringifyNdjson(),
    createWriteStream(out),
  );
}

async function pullPath(pool: ThreadPool, out: string): Promise<void> {
  await pipeline(
    Readable.from(feed(records)),
    splitLines(),
    parseNdjson<Transaction>(),
    mapStream(pool, enrichOnWorker, { chunksize: 64 }),
    stringifyNdjson(),
    createWriteStream(out),
  );
}

async function rxjsPath(pool: ThreadPool, out: string): Promise<void> {
  await pipeThroughOperator(
    splitLines()(Readable.from(feed(records))),
    (line$) =>
      line$.pipe(
        map((line) => JSON.parse(line) as Transaction),
        mapOnPool(pool, enrichOnWorker, { chunksize: 64 }),
        map((enriched) => `${JSON.stringify(enriched)}\n`),
      ),
    createWriteStream(out),
    // Enough values in flight to keep every worker busy with full chunks.
    { highWaterMark: threads * 64 * 4 },
  );
}

// ── running and reporting ───────────────────────────────────────────────────────────────────────

const live = process.stderr.isTTY === true;

/** Runs `work` on a fresh pool, watching it with poolStats; returns seconds and mean utilization. */
async function onPool(label: string, work: (pool: ThreadPool, out: string) => Promise<void>, out: string) {
  await using pool = new ThreadPool({ maxWorkers: threads });
  // Start every worker (and load the task module) before the clock starts, as a long-running feed
  // would have: what is timed is the steady state.
  await Promise.all(Array.from({ length: threads }, () => pool.submit(warmUp, [])));
  let first: PoolStatsSample | undefined;
  const watch = poolStats(pool, { interval: 250 }).subscribe((s) => {
    first ??= s;
    if (live) process.stderr.write(`\r\x1b[2K  ${label}: ${s.completed.toLocaleString('en-US')} records · ${s.busy}/${threads} busy · ${(s.windowUtilization * 100).toFixed(0)}% utilized`);
  });
  const started = performance.now();
  await work(pool, out);
  const seconds = (performance.now() - started) / 1000;
  watch.unsubscribe();
  if (live) process.stderr.write('\r\x1b[2K');
  // Utilization over the timed run: busy time / (workers × elapsed).
  const busy = pool.stats.busyTime - (first?.busyTime ?? 0);
  return { seconds, utilization: Math.min(1, busy / (threads * seconds * 1000)) };
}

const row = (label: string, seconds: number, extra = '') =>
  console.log(`  ${label.padEnd(34)} ${seconds.toFixed(2).padStart(6)} s ${Math.round(records / seconds).toLocaleString('en-US').padStart(8)} records/s${extra}`);

const outputs = { main: join(dir, 'main-thread.ndjson'), pull: join(dir, 'threads-pull.ndjson'), rxjs: join(dir, 'threads-rxjs.ndjson') };
console.log(`ETL feed: ${records.toLocaleString('en-US')} card transactions (NDJSON) → parse → enrich (tokenise card, risk score) → NDJSON`);
console.log(`  ${availableParallelism()} CPUs available; the speedup is bounded by them and by whatever else is running`);

let started = performance.now();
if (live) process.stderr.write('  main thread: running…');
await mainThread(outputs.main);
const base = (performance.now() - started) / 1000;
if (live) process.stderr.write('\r\x1b[2K');
row('main thread', base);

const pull = await onPool('mapStream', pullPath, outputs.pull);
row(`${threads} threads: pipeline + mapStream`, pull.seconds, `  ${(base / pull.seconds).toFixed(2)}× faster · pool ${(pull.utilization * 100).toFixed(0)}% utilized`);

const rx = await onPool('mapOnPool', rxjsPath, outputs.rxjs);
row(`${threads} threads: mapOnPool (RxJS)`, rx.seconds, `  ${(base / rx.seconds).toFixed(2)}× faster · pool ${(rx.utilization * 100).toFixed(0)}% utilized`);

const [a, b, c] = await Promise.all([digest(outputs.main), digest(outputs.pull), digest(outputs.rxjs)]);
const size = (statSync(outputs.main).size / 1e6).toFixed(1);
if (a === b && a === c) console.log(`  outputs identical: ${size} MB each, sha256 ${a.slice(0, 16)}…`);
else {
  console.log(`  outputs DIFFER: ${a} ${b} ${c}`);
  process.exitCode = 1;
}
if (values.keep) console.log(`  written to ${dir}`);
else rmSync(dir, { recursive: true, force: true });
