/**
 * The systems and workloads of `npm run bench`: what runs, how often, and against what.
 * Measurement code lives in child.mjs (Node) and py_bench.py (Python); this file is only data.
 */
import { REAL_SYSTEMS, REAL_WORKLOADS } from './real/workloads.ts';

export type Runtime = 'thread' | 'process' | 'redis';
export type Kind = 'ours' | 'peer' | 'raw' | 'python';

export interface SystemDef {
  readonly name: string;
  /** What the row says in tables and the chart. */
  readonly label: string;
  readonly kind: Kind;
  readonly runtime: Runtime;
  /**
   * The child runs under tsx (`tsx bench/child.mjs …`, as `npx tsx script.ts` runs a script): its
   * loader is in the parent's execArgv, so whatever a pool does with it (inherit it, filter it) is
   * measured. The other Node systems run under plain `node` with no loader at all.
   */
  readonly tsx?: boolean;
  /** Its table's "÷ baseline" column; default: piscina for threads, workerpool-process for processes. */
  readonly baseline?: string;
}

const sys = (name: string, label: string, kind: Kind, runtime: Runtime, more: Partial<SystemDef> = {}): SystemDef => ({ name, label, kind, runtime, ...more });
/** The same system run under tsx: `<name>-tsx`; child.mjs strips the suffix. */
const underTsx = (s: SystemDef): SystemDef => ({ ...s, name: `${s.name}-tsx`, label: `${s.label}, under tsx`, tsx: true });

// Defaults (issue 10): `chunksize: 'auto'` for pool.map and the operators, and the operators'
// `concurrency` from the pool's batching hint. A row without options says "(defaults)".
const BASE: readonly SystemDef[] = [
  sys('ours-thread-submit', 'ThreadPool submit', 'ours', 'thread'),
  sys('ours-thread-map', 'ThreadPool map (defaults: chunksize auto)', 'ours', 'thread'),
  sys('ours-thread-map-c1', 'ThreadPool map chunksize 1', 'ours', 'thread'),
  sys('ours-thread-map-c4', 'ThreadPool map chunksize 4', 'ours', 'thread'),
  sys('ours-thread-map-c16', 'ThreadPool map chunksize 16', 'ours', 'thread'),
  sys('ours-thread-map-c64', 'ThreadPool map chunksize 64', 'ours', 'thread'),
  sys('ours-thread-map-c256', 'ThreadPool map chunksize 256', 'ours', 'thread'),
  sys('ours-thread-pull', 'from(ThreadPool map) (pull path, defaults)', 'ours', 'thread'),
  sys('ours-mapOnThreads', 'mapOnThreads (defaults)', 'ours', 'thread'),
  sys('ours-mapOnThreads-k64', 'mapOnThreads concurrency 64 (chunksize auto)', 'ours', 'thread'),
  sys('ours-mapOnThreads-k64-c1', 'mapOnThreads concurrency 64, chunksize 1', 'ours', 'thread'),
  sys('ours-mapOnThreads-c64', 'mapOnThreads chunksize 64', 'ours', 'thread'),
  sys('ours-mapOnThreads-c256', 'mapOnThreads chunksize 256', 'ours', 'thread'),
  sys('ours-mapOnThreads-paced', 'mapOnThreads chunksize 256, source paced by its consumer', 'ours', 'thread'),
  sys('piscina', 'piscina', 'peer', 'thread'),
  sys('tinypool-thread', 'tinypool worker_threads', 'peer', 'thread'),
  sys('workerpool-thread', 'workerpool thread', 'peer', 'thread'),
  sys('threadsjs', 'threads.js Pool', 'peer', 'thread'),
  sys('raw-thread-1', 'raw worker_threads, 1 in flight', 'raw', 'thread'),
  sys('raw-thread-pipe', 'raw worker_threads, pipelined', 'raw', 'thread'),
  sys('raw-thread-b64', 'raw worker_threads, 64 a message', 'raw', 'thread'),
  sys('py-thread', 'Python ThreadPoolExecutor', 'python', 'thread'),

  sys('ours-process-submit', 'ProcessPool submit', 'ours', 'process'),
  sys('ours-process-map', 'ProcessPool map (defaults: chunksize auto)', 'ours', 'process'),
  sys('ours-process-map-c1', 'ProcessPool map chunksize 1', 'ours', 'process'),
  sys('ours-process-map-c4', 'ProcessPool map chunksize 4', 'ours', 'process'),
  sys('ours-process-map-c16', 'ProcessPool map chunksize 16', 'ours', 'process'),
  sys('ours-process-map-c64', 'ProcessPool map chunksize 64', 'ours', 'process'),
  sys('ours-process-map-c256', 'ProcessPool map chunksize 256', 'ours', 'process'),
  sys('ours-mapOnProcesses', 'mapOnProcesses (defaults)', 'ours', 'process'),
  sys('ours-mapOnProcesses-k64', 'mapOnProcesses concurrency 64 (chunksize auto)', 'ours', 'process'),
  sys('ours-mapOnProcesses-c64', 'mapOnProcesses chunksize 64', 'ours', 'process'),
  sys('ours-mapOnProcesses-c256', 'mapOnProcesses chunksize 256', 'ours', 'process'),
  sys('workerpool-process', 'workerpool process', 'peer', 'process'),
  sys('tinypool-process', 'tinypool child_process', 'peer', 'process'),
  sys('raw-fork-1', 'raw fork, 1 in flight', 'raw', 'process'),
  sys('raw-fork-pipe', 'raw fork, pipelined', 'raw', 'process'),
  sys('raw-fork-b64', 'raw fork, 64 a message', 'raw', 'process'),
  sys('py-process-c1', 'Python ProcessPoolExecutor chunksize 1', 'python', 'process'),
  sys('py-process-c256', 'Python ProcessPoolExecutor chunksize 256', 'python', 'process'),
  ...REAL_SYSTEMS,
];
const TSX = ['ours-thread-submit', 'ours-thread-map', 'ours-mapOnThreads', 'piscina', 'ours-process-submit', 'ours-process-map', 'ours-mapOnProcesses'];

/** bench/stream-child.mjs's systems (`stream-` + its name): each drains a 10M-value generator. */
const STREAM: readonly SystemDef[] = [
  sys('stream-plain-async', '`for await` over a local async generator (no pool)', 'raw', 'thread', { baseline: 'stream-plain-async' }),
  sys('stream-threads', 'pool.stream, ThreadPool, a generator function (defaults)', 'ours', 'thread', { baseline: 'stream-plain-async' }),
  sys('stream-processes', 'pool.stream, ProcessPool, a generator function (defaults)', 'ours', 'process', { baseline: 'stream-plain-async' }),
];

/** bench/redis.ts's measurements, one session (redis-server + worker hosts) for all of them. */
const REDIS: readonly SystemDef[] = [
  sys('redis-bullmq', 'BullMQ used directly, one job per item', 'peer', 'redis', { baseline: 'redis-bullmq' }),
  sys('redis-map', 'RedisPool pool.map (defaults)', 'ours', 'redis', { baseline: 'redis-bullmq' }),
  sys('redis-mapOnPool', 'RedisPool mapOnPool (defaults)', 'ours', 'redis', { baseline: 'redis-bullmq' }),
  sys('redis-slow-one', '200 ms task × 16, pool.map, one host', 'ours', 'redis', { baseline: 'redis-slow-one' }),
  sys('redis-slow-two', '200 ms task × 16, pool.map, two hosts', 'ours', 'redis', { baseline: 'redis-slow-one' }),
];

export const SYSTEMS: readonly SystemDef[] = [
  ...BASE.flatMap((s) => (TSX.includes(s.name) ? [s, underTsx(s)] : [s])),
  ...STREAM,
  ...REDIS,
];

export const byName = new Map(SYSTEMS.map((s) => [s.name, s]));

/** Ratios are taken, run by run, against the peer a user would otherwise pick. */
export function baselineOf(s: SystemDef): string {
  return s.baseline ?? (s.runtime === 'thread' ? 'piscina' : 'workerpool-process');
}

export interface WorkloadDef {
  readonly id: string;
  readonly title: string;
  readonly what: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly runs: number;
  readonly quickRuns: number;
  /** Per child process; a child still running then is killed and reported as hung. */
  readonly timeoutMs: number;
  readonly systems: readonly string[];
  /** Systems run by --quick (empty: the workload is skipped by --quick). */
  readonly quickSystems: readonly string[];
  /** Systems too slow for every round: at most this many runs each. */
  readonly maxRuns?: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * One child measures every system of this workload, all rounds, and prints them as one
   * `@@RESULT {"rounds": [{system: value}], …}`: for a workload whose set-up is shared (bench/redis.ts
   * starts a redis-server and worker hosts once). The script is run under tsx from bench/, with
   * `--json --built --rounds N` (and `--quick`).
   */
  readonly session?: string;
}

const oursThreadAll = ['ours-thread-submit', 'ours-thread-map', 'ours-thread-map-c1', 'ours-thread-map-c64', 'ours-thread-map-c256', 'ours-mapOnThreads', 'ours-mapOnThreads-k64', 'ours-mapOnThreads-k64-c1', 'ours-mapOnThreads-c64', 'ours-mapOnThreads-c256'];
const oursProcessAll = ['ours-process-submit', 'ours-process-map', 'ours-process-map-c64', 'ours-process-map-c256', 'ours-mapOnProcesses', 'ours-mapOnProcesses-k64', 'ours-mapOnProcesses-c64', 'ours-mapOnProcesses-c256'];

export const WORKLOADS: readonly WorkloadDef[] = [
  {
    id: 'overhead',
    title: '1. Overhead',
    what: '20,000 tiny tasks (`x => x + 1`), 2 workers, results in input order (`submit` rows: all submitted at once, then awaited in order), timed after a 5,000-task warm-up (excluded) that starts every worker and warms the JIT',
    unit: 'tasks/s',
    better: 'higher',
    runs: 5,
    quickRuns: 2,
    timeoutMs: 60_000,
    systems: [
      ...oursThreadAll, 'piscina', 'tinypool-thread', 'workerpool-thread', 'threadsjs',
      'raw-thread-1', 'raw-thread-pipe', 'raw-thread-b64', 'py-thread',
      ...oursProcessAll, 'workerpool-process', 'tinypool-process', 'raw-fork-1', 'raw-fork-pipe', 'raw-fork-b64',
      'py-process-c1', 'py-process-c256',
    ],
    // --quick: the systems the targets read (bench/report.ts), no more.
    quickSystems: [
      'ours-thread-map', 'ours-thread-map-c1', 'ours-mapOnThreads', 'ours-mapOnThreads-k64-c1', 'piscina', 'raw-thread-pipe', 'raw-thread-b64',
      'ours-mapOnProcesses', 'ours-mapOnProcesses-c256', 'workerpool-process', 'raw-fork-b64', 'py-process-c256',
    ],
    // threads.js runs 20,000 queued tasks at ~450 tasks/s (~45 s): its per-task cost grows with the
    // queue, so its rounds are capped (see README, "Coming from threads").
    maxRuns: { threadsjs: 1 },
    params: { n: 20_000, workers: 2, warm: 5_000 },
  },
  {
    id: 'cpu',
    title: '2. CPU-bound scaling',
    what: '64 tasks of ~20 ms of integer work, 2 workers; speedup = the same 64 on the main thread ÷ pool time',
    unit: '× speedup',
    better: 'higher',
    runs: 3,
    quickRuns: 1,
    timeoutMs: 60_000,
    // The fixed chunksizes are what 'auto' (the default) is held against on a slow task.
    systems: [
      'ours-thread-submit', 'ours-thread-map', 'ours-thread-map-c1', 'ours-thread-map-c4', 'ours-thread-map-c16', 'ours-mapOnThreads',
      'piscina', 'tinypool-thread', 'workerpool-thread', 'threadsjs', 'raw-thread-1', 'py-thread',
      'ours-process-submit', 'ours-process-map', 'ours-process-map-c1', 'ours-process-map-c4', 'ours-process-map-c16', 'ours-mapOnProcesses',
      'workerpool-process', 'tinypool-process', 'raw-fork-1', 'py-process-c1',
    ],
    quickSystems: [
      'ours-thread-map', 'ours-thread-map-c1', 'ours-thread-map-c4', 'ours-thread-map-c16', 'ours-mapOnThreads', 'ours-mapOnProcesses',
      'piscina', 'workerpool-process', 'raw-thread-1',
    ],
    params: { tasks: 64, workers: 2 },
  },
  {
    id: 'cold',
    title: '3. Cold start',
    what: 'in a fresh process: construct a pool (2 workers; raw: 1 worker) → first result of `x => x + 1`',
    unit: 'ms',
    better: 'lower',
    runs: 7,
    quickRuns: 3,
    timeoutMs: 30_000,
    systems: [
      'ours-thread-submit', 'ours-mapOnThreads', 'piscina', 'tinypool-thread', 'workerpool-thread', 'threadsjs', 'raw-thread-1', 'py-thread',
      'ours-process-submit', 'ours-mapOnProcesses', 'workerpool-process', 'tinypool-process', 'raw-fork-1', 'py-process-c1',
    ],
    quickSystems: ['ours-thread-submit', 'ours-process-submit', 'piscina', 'workerpool-process', 'raw-thread-1', 'raw-fork-1'],
    params: { workers: 2 },
  },
  {
    id: 'cold-tsx',
    title: '3b. Cold start under tsx',
    what: 'as 3, with 3 workers, each system under plain `node` and under tsx (`tsx child.mjs`, the way `npx tsx script.ts` runs a script: its loader in execArgv); ratios of a tsx row are to the same system under node',
    unit: 'ms',
    better: 'lower',
    runs: 7,
    quickRuns: 2,
    timeoutMs: 30_000,
    systems: ['ours-thread-submit', 'ours-thread-submit-tsx', 'ours-process-submit', 'ours-process-submit-tsx', 'piscina', 'piscina-tsx'],
    quickSystems: ['ours-thread-submit', 'ours-thread-submit-tsx', 'ours-process-submit', 'ours-process-submit-tsx', 'piscina', 'piscina-tsx'],
    params: { workers: 3 },
  },
  {
    id: 'transfer-copy',
    title: '4a. Transfer, copied',
    what: 'a 16 MB ArrayBuffer to a worker and back, structured-clone copy (processes: whatever the IPC does)',
    unit: 'ms',
    better: 'lower',
    runs: 3,
    quickRuns: 1,
    timeoutMs: 60_000,
    systems: [
      'ours-thread-submit', 'piscina', 'tinypool-thread', 'workerpool-thread', 'threadsjs', 'raw-thread-1',
      'ours-process-submit', 'workerpool-process', 'tinypool-process', 'raw-fork-1', 'py-process-c1',
    ],
    quickSystems: ['ours-thread-submit', 'ours-process-submit', 'piscina', 'workerpool-process', 'raw-thread-1', 'raw-fork-1'],
    params: { mb: 16, reps: 8 },
  },
  {
    id: 'transfer-move',
    title: '4b. Transfer, transferred',
    what: 'the same 16 MB ArrayBuffer round trip with a transfer list, and the result transferred back where the system lets a task do that (piscina/tinypool `move`, workerpool `Transfer`, threads.js `Transfer`, rxjs-pools `transfer()`)',
    unit: 'ms',
    better: 'lower',
    runs: 3,
    quickRuns: 1,
    timeoutMs: 60_000,
    systems: ['ours-thread-submit', 'piscina', 'tinypool-thread', 'workerpool-thread', 'threadsjs', 'raw-thread-1', 'py-thread'],
    quickSystems: ['ours-thread-submit', 'piscina', 'raw-thread-1'],
    params: { mb: 16, reps: 8 },
  },
  {
    id: 'seed-threads',
    title: '5a. Seed scenario, threads',
    what: 'the seed: numbers 1–10, a blocking 1 s task, 3 threads; construct → last result (ideal 4 s)',
    unit: 's',
    better: 'lower',
    runs: 2,
    quickRuns: 0,
    timeoutMs: 30_000,
    systems: ['ours-thread-map', 'ours-mapOnThreads', 'ours-thread-map-tsx', 'ours-mapOnThreads-tsx', 'piscina', 'py-thread'],
    quickSystems: [],
    params: {},
  },
  {
    id: 'seed-processes',
    title: '5b. Seed scenario, processes',
    what: 'the seed: [1, 2, 3, 4, 5, 11, 12, 14], a blocking 2 s task, 3 processes; construct → last result (ideal 6 s)',
    unit: 's',
    better: 'lower',
    runs: 2,
    quickRuns: 0,
    timeoutMs: 40_000,
    systems: ['ours-process-map', 'ours-mapOnProcesses', 'ours-process-map-tsx', 'ours-mapOnProcesses-tsx', 'workerpool-process', 'py-process-c1'],
    quickSystems: [],
    params: {},
  },
  {
    id: 'memory',
    title: '6. Memory',
    what: 'peak RSS growth (sampled every 5 ms and getrusage maxRSS) while 1,000,000 `x => x + 1` stream through in order; includes the workers\' own memory',
    unit: 'MB',
    better: 'lower',
    runs: 2,
    quickRuns: 1,
    timeoutMs: 120_000,
    systems: ['ours-mapOnThreads', 'ours-mapOnThreads-c256', 'ours-mapOnThreads-paced', 'ours-thread-pull', 'ours-thread-map', 'piscina', 'raw-thread-pipe', 'raw-thread-b64', 'py-process-c256'],
    quickSystems: ['ours-mapOnThreads-c256', 'ours-mapOnThreads-paced', 'ours-thread-pull', 'raw-thread-pipe'],
    // piscina, 64 in flight, needs ~30 s for a million tasks.
    maxRuns: { piscina: 1 },
    params: { n: 1_000_000, workers: 2 },
  },
  {
    id: 'stream',
    title: '7. Streaming tasks',
    what: '`for await (const v of pool.stream(numbers, [n]))` over a 10,000,000-value generator in a worker (one worker, defaults), beside the same `for await` over a local async generator; bench/stream-child.mjs from dist/, a fresh process each; peak RSS of the main process (sampled every 65,536 values, and its growth after the first tenth of the values: flat memory keeps it small) and of the worker',
    unit: 'values/s',
    better: 'higher',
    runs: 3,
    quickRuns: 1,
    timeoutMs: 120_000,
    systems: ['stream-plain-async', 'stream-threads', 'stream-processes'],
    quickSystems: ['stream-plain-async', 'stream-threads', 'stream-processes'],
    params: { values: 10_000_000 },
  },
  {
    id: 'redis',
    title: '8. RedisPool',
    what: 'bench/redis.ts: a local redis-server and 2 worker hosts (`rxjs-pools worker`, built, one thread each; a third alone on another queue for the one-host run); tiny tasks (`x => 2 * x`, 500,000 items; --quick 200,000) through pool.map and mapOnPool at their defaults against BullMQ used directly with one job per item (10,000; --quick 5,000), and 16 tasks of 200 ms through pool.map on one host and on two (items/s, so the ratio is the speedup)',
    unit: 'items/s',
    better: 'higher',
    runs: 3,
    quickRuns: 1,
    timeoutMs: 300_000,
    systems: ['redis-bullmq', 'redis-map', 'redis-mapOnPool', 'redis-slow-one', 'redis-slow-two'],
    quickSystems: ['redis-bullmq', 'redis-map', 'redis-mapOnPool', 'redis-slow-one', 'redis-slow-two'],
    params: {},
    session: 'redis.ts',
  },
  ...REAL_WORKLOADS,
];
