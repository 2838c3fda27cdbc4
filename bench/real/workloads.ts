/**
 * Issue 10's real workloads (terser, typescript.transpileModule, an NDJSON ETL): their systems,
 * workload definitions and goal rows, appended to bench/systems.ts and bench/report.ts's targets.
 * Measured by ./child.mjs, which bench/run.ts starts for every workload whose id starts `real-`.
 */
import type { Sample } from '../report.ts';
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
    title: '7a. Real: minify with terser',
    what: "rxjs's 251 ES modules (node_modules/rxjs/dist/esm, 0.24 MB) minified one file a task with terser (`module`, 1 compress pass, mangle), as terser-webpack-plugin does through jest-worker; 2 workers; time from pool construction to the last result (the loop: from importing terser), output checked equal to the loop's",
    runs: 3,
    params: { workers: 2 },
  },
  {
    ...common,
    id: 'real-transpile',
    title: '7b. Real: transpile with TypeScript',
    what: "323 real `.ts` files (rxjs's shipped src/ and this repo's src/, 1.2 MB) through `typescript.transpileModule` (ES2022, ESNext modules), one file a task; 2 workers; pool construction → last result (the loop: from importing typescript), output checked equal to the loop's",
    runs: 3,
    quickRuns: 0,
    quickSystems: [],
    params: { workers: 2 },
  },
  {
    ...common,
    id: 'real-etl',
    title: '7c. Real: NDJSON ETL',
    what: '200,000 seeded NDJSON log records (~230 bytes each), one record a task: `JSON.parse`, SHA-256 of the user (node:crypto), a regex pulls order and SKU out of the message, `JSON.stringify` of the result; 2 workers; pool construction → last result, output checked equal to the loop\'s. Tuned: `chunksize: 1024`. Of the peers only piscina runs (one record a message, its API: ~15 s here)',
    // The peers send one message a record (their API): piscina takes ~15 s here, tinypool ~50 s,
    // so only piscina (the goal's baseline) is measured, once; the others would triple the run.
    systems: ['loop', 'ours-mapOnThreads', 'ours-thread-map', ...tuned, 'piscina', 'ours-mapOnProcesses', 'ours-process-map'],
    quickSystems: ['loop', 'ours-mapOnThreads'],
    runs: 3,
    maxRuns: { piscina: 1 },
    params: { workers: 2, records: 200_000, tuned: TUNED['real-etl'] },
  },
];

// ---- goal rows, in the shape of report.ts's targets ------------------------------------------
interface Row {
  target: string;
  measured: string;
  verdict: string;
}
interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

function summarise(xs: number[]): Summary | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** How many times faster `a` is than `b` (b's time ÷ a's), round by round, where both finished. */
function speedup(samples: readonly Sample[], w: string, a: string, b: string): Summary | undefined {
  const ok = (s: string) => samples.filter((x) => x.workload === w && x.system === s && x.status === 'ok' && typeof x.value === 'number');
  const bs = new Map(ok(b).map((x) => [x.round, x.value!]));
  return summarise(ok(a).filter((x) => bs.has(x.round)).map((x) => bs.get(x.round)! / x.value!));
}

const text = (r: Summary) => `${r.median.toFixed(2)}×${r.n > 1 ? ` (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : ''}`;

/** Issue 10's goals on the real workloads: at defaults never > 5 % slower than piscina; the ETL ≥ 1.6× the loop. */
export function realTargets(samples: readonly Sample[]): Row[] {
  if (!samples.some((x) => x.workload.startsWith('real-'))) return [];
  const rows: Row[] = [];
  const goal = (target: string, r: Summary | undefined, min: number, what: string) => {
    if (!r) return rows.push({ target, measured: 'not measured', verdict: '—' });
    rows.push({
      target,
      measured: `${what}: ${text(r)}`,
      verdict: r.median >= min ? `**met** (${r.median.toFixed(2)} ≥ ${min.toFixed(2)})` : `**missed** by ${((1 - r.median / min) * 100).toFixed(0)} % (${r.median.toFixed(2)} vs ${min.toFixed(2)})`,
    });
  };
  const label = { 'real-minify': 'minify', 'real-transpile': 'transpile', 'real-etl': 'ETL' } as Record<string, string>;
  for (const w of REAL_WORKLOADS.map((x) => x.id)) {
    for (const [s, name] of [['ours-mapOnThreads', 'mapOnThreads'], ['ours-thread-map', 'ThreadPool map']] as const) {
      goal(`Real ${label[w]}: ${name} at defaults ≤ 5 % slower than piscina`, speedup(samples, w, s, 'piscina'), 1 / 1.05, `speed ÷ piscina's`);
    }
    // Not an issue goal (a loop on terser or typescript already keeps ~1.6 cores busy): the row
    // says whether starting a pool still costs more than it brings on ~1 s of work.
    if (w !== 'real-etl') goal(`Real ${label[w]}: mapOnThreads at defaults no slower than the loop`, speedup(samples, w, 'ours-mapOnThreads', 'loop'), 1, 'speedup over the loop');
  }
  goal('Real ETL: mapOnThreads at defaults ≥ 1.6× the loop (2 cores)', speedup(samples, 'real-etl', 'ours-mapOnThreads', 'loop'), 1.6, 'speedup over the loop');
  goal('Real ETL: ThreadPool map at defaults ≥ 1.6× the loop (2 cores)', speedup(samples, 'real-etl', 'ours-thread-map', 'loop'), 1.6, 'speedup over the loop');
  return rows;
}
