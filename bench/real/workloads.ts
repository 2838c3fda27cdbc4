/**
 * Issue 10's real workloads (terser, typescript.transpileModule, an NDJSON ETL): their systems,
 * workload definitions, appended to bench/systems.ts (their goal rows: bench/report.ts, issue10Real).
 * Measured by ./child.mjs, which bench/run.ts starts for every workload whose id starts `real-`.
 */
import type { SystemDef, WorkloadDef } from '../systems.ts';

/**
 * Options of the "tuned" rows, per workload (the defaults rows pass none). Only the ETL has any:
 * a file of terser or typescript work is 4–10 ms a task against ~0.05 ms for a round trip, so
 * batching or deeper pipelines have nothing to amortise there and tuned rows would repeat the
 * defaults' (one file a message, two in flight a worker until measured).
 */
export const TUNED: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'real-etl': { chunksize: 1024 },
};

/** Systems of these workloads only (the rest, ours included, are bench/systems.ts's own). */
export const REAL_SYSTEMS: readonly SystemDef[] = [
  { name: 'loop', label: 'plain loop on the main thread', kind: 'raw', runtime: 'thread' },
  { name: 'raw-thread-b1024', label: 'raw worker_threads, 1,024 a message (the ceiling)', kind: 'raw', runtime: 'thread' },
  { name: 'ours-mapOnThreads-tuned', label: 'mapOnThreads tuned: chunksize 1024', kind: 'ours', runtime: 'thread' },
  { name: 'ours-thread-map-tuned', label: 'ThreadPool map tuned: chunksize 1024', kind: 'ours', runtime: 'thread' },
  { name: 'jest-worker', label: 'jest-worker (child processes, its default)', kind: 'peer', runtime: 'process' },
];

const threads = ['loop', 'ours-mapOnThreads', 'ours-thread-map', 'piscina', 'tinypool-thread', 'workerpool-thread'];
const tuned = ['ours-mapOnThreads-tuned', 'ours-thread-map-tuned'];
const processes = ['ours-mapOnProcesses', 'ours-process-map', 'jest-worker'];
// --quick: ~20 s for all three (minify against piscina; the ETL without its 15 s peers).
const quick = ['loop', 'ours-mapOnThreads', 'piscina'];
const common = {
  unit: 's',
  better: 'lower',
  timeoutMs: 90_000,
  systems: [...threads, ...processes],
  quickSystems: quick,
  quickRuns: 1,
} as const;

export const REAL_WORKLOADS: readonly WorkloadDef[] = [
  {
    ...common,
    id: 'real-minify',
    title: '9a. Real: minify with terser',
    what: "rxjs's 251 ES modules (node_modules/rxjs/dist/esm, 0.24 MB) minified one file a task with terser (`module`, 1 compress pass, mangle), as terser-webpack-plugin does through jest-worker; 2 workers; time from pool construction to the last result (the loop: from importing terser), output checked equal to the loop's",
    runs: 3,
    params: { workers: 2 },
  },
  {
    ...common,
    id: 'real-transpile',
    title: '9b. Real: transpile with TypeScript',
    what: "323 real `.ts` files (rxjs's shipped src/ and this repo's src/, 1.2 MB) through `typescript.transpileModule` (ES2022, ESNext modules), one file a task; 2 workers; pool construction → last result (the loop: from importing typescript), output checked equal to the loop's",
    runs: 3,
    quickRuns: 0,
    quickSystems: [],
    params: { workers: 2 },
  },
  {
    ...common,
    id: 'real-etl',
    title: '9c. Real: NDJSON ETL',
    what: '200,000 seeded NDJSON log records (~230 bytes each), one record a task: `JSON.parse`, SHA-256 of the user (node:crypto), a regex pulls order and SKU out of the message, `JSON.stringify` of the result; 2 workers; pool construction → last result, output checked equal to the loop\'s. Tuned: `chunksize: 1024`. The peers send one record a message (their API), so each runs once',
    // The peers send one message a record (their API): measured under load, piscina took ~12 s,
    // jest-worker ~24 s, tinypool ~51 s, workerpool ~78 s: one round each.
    systems: ['loop', 'ours-mapOnThreads', 'ours-thread-map', ...tuned, 'raw-thread-b1024', 'piscina', 'tinypool-thread', 'workerpool-thread', 'jest-worker', 'ours-mapOnProcesses', 'ours-process-map'],
    quickSystems: ['loop', 'ours-mapOnThreads'],
    runs: 3,
    maxRuns: { piscina: 1, 'tinypool-thread': 1, 'workerpool-thread': 1, 'jest-worker': 1 },
    timeoutMs: 180_000,
    params: { workers: 2, records: 200_000, tuned: TUNED['real-etl'] },
  },
];
