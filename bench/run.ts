/**
 * `npm run bench` — rxjs-pools against its peers, on this machine, in one run.
 *
 *   npm run bench                   full run (< 20 min): bench/RESULTS.md, bench/throughput.svg, bench/results.json
 *   npm run bench -- --quick        smoke run (< 3 min): written to bench/.out/ unless --out is given
 *   options: --only overhead,cold   --systems piscina,ours   --runs 3   --out DIR   --no-build
 *            --merge[=FILE]    re-measure the --only workloads and keep the rest from FILE (bench/results.json)
 *            --from-json FILE  rewrite the reports (and, into bench/, the README section) from a results.json
 *            --wait-quiet=MIN  first wait (up to MIN minutes) for 10 s in a row with the machine < 30 % busy
 *
 * Every measurement is one system × one workload × one run in a fresh child process (child.mjs for
 * Node, py_bench.py for Python) with a timeout; a child that does not finish is killed with its whole
 * process group and reported as "hung". Runs are interleaved: round r runs every system once, in an
 * order rotated by r, so drift hits ours and the peer it is compared with alike, and every ratio is
 * taken within one round before the median is taken.
 *
 * NODE_EXTRA_CA_CERTS (set on this machine) costs ~40 ms per Node process start; it is removed from
 * the environment of every child, for every system and workload alike.
 *
 * Children run under plain `node` with no loader, except the `-tsx` systems (started with the tsx
 * binary, as `npx tsx script.ts` is), bench/stream-child.mjs for the streaming workload, and a
 * workload's `session` script (bench/redis.ts: one child for all its systems and rounds).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { SYSTEMS, WORKLOADS, byName, type WorkloadDef } from './systems.ts';
import { readmeSection, writeReport, type Machine, type Sample } from './report.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);

// ---- arguments ------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
};
const quick = flag('quick');
const only = option('only')?.split(',');
const systemFilter = option('systems')?.split(',');
const runsOverride = option('runs') ? Number(option('runs')) : undefined;
const outDir = option('out') ?? (quick || only || systemFilter || runsOverride ? join(benchDir, '.out') : benchDir);

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const tsxCli = join(root, 'node_modules/tsx/dist/cli.mjs');

// ---- environment: the same for every child ----------------------------------------------------
const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS;
delete childEnv.NODE_OPTIONS; // never let a loader (tsx) leak into the measured processes

// ---- ours: build, then see what dist/ offers ------------------------------------------------
const notes: string[] = [];
const oursExports = new Set<string>();
function prepareOurs(): void {
  const commits = spawnSync('git', ['log', '--format=%s'], { cwd: root, encoding: 'utf8' }).stdout ?? '';
  const landed = {
    pools: commits.split('\n').some((s) => s.startsWith('Pools:')),
    operators: commits.split('\n').some((s) => s.startsWith('Operators')),
  };
  if (!flag('no-build') && existsSync(join(root, 'src/index.ts'))) {
    log('building rxjs-pools (npm run build)…');
    const b = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', env: childEnv, timeout: 300_000 });
    if (b.status !== 0) {
      const tail = `${b.stdout}${b.stderr}`.trim().split('\n').slice(-3).join(' / ');
      notes.push(`\`npm run build\` failed (${tail}); ours was measured from whatever dist/ holds.`);
    }
  }
  const dist = join(root, 'dist/index.js');
  if (!existsSync(dist)) {
    notes.push(
      `Ours was skipped: no dist/index.js (pools ${landed.pools ? 'landed' : 'not landed yet'}, operators ${landed.operators ? 'landed' : 'not landed yet'}).`,
    );
    return;
  }
  const probe = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import(${JSON.stringify(`file://${dist}`)}).then(m => console.log(JSON.stringify(Object.keys(m))))`],
    { encoding: 'utf8', env: childEnv, timeout: 30_000 },
  );
  if (probe.status !== 0) {
    notes.push(`Ours was skipped: dist/index.js does not load (${probe.stderr.trim().split('\n')[0]}).`);
    return;
  }
  for (const k of JSON.parse(probe.stdout) as string[]) oursExports.add(k);
  const missing = ['ThreadPool', 'ProcessPool', 'mapOnThreads', 'mapOnProcesses'].filter((k) => !oursExports.has(k));
  if (missing.length) notes.push(`dist/index.js does not export ${missing.join(', ')} yet: the systems that need it were skipped.`);
}

function oursAvailable(system: string): boolean {
  if (!system.startsWith('ours-')) return true;
  if (system.includes('mapOnThreads')) return oursExports.has('mapOnThreads');
  if (system.includes('mapOnProcesses')) return oursExports.has('mapOnProcesses');
  if (system.startsWith('ours-thread')) return oursExports.has('ThreadPool');
  return oursExports.has('ProcessPool');
}

// ---- other people's load: this machine is shared with test runs --------------------------------
function cpuTimes(): { idle: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}
/** Share of all cores busy over `ms`, while none of ours runs. */
async function backgroundLoad(ms = 100): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}
const BUSY = 0.3;
let waitBudgetMs = quick ? 10_000 : 90_000;
let retryBudgetMs = quick ? 0 : 90_000;
/** Wait (bounded) for the machine to be quiet before a measurement; returns the load it started at. */
async function settle(): Promise<number> {
  let load = await backgroundLoad();
  const t0 = performance.now();
  while (load > BUSY && waitBudgetMs > 0 && performance.now() - t0 < 15_000) {
    await new Promise((r) => setTimeout(r, 1000));
    waitBudgetMs -= 1100;
    load = await backgroundLoad();
  }
  return load;
}

// ---- one child ------------------------------------------------------------------------------
interface ChildOutcome {
  status: 'ok' | 'hung' | 'failed';
  result?: Record<string, unknown>;
  error?: string;
  wallMs: number;
  /** Parent-observed: spawn → the child's @@FIRST line (cold start). */
  firstMs?: number;
}

/** What runs one measurement: python3 for Python, stream-child.mjs for `stream-`, real/child.mjs for `real-` workloads, tsx for `-tsx`, else node. */
function commandFor(workload: string, system: string, params: Record<string, unknown>): { cmd: string; args: string[] } {
  if (system.startsWith('py-')) return { cmd: 'python3', args: [join(benchDir, 'py_bench.py'), workload, system, JSON.stringify(params)] };
  const loader = byName.get(system)?.tsx ? [tsxCli] : [];
  if (system.startsWith('stream-')) {
    return { cmd: process.execPath, args: [...loader, join(benchDir, 'stream-child.mjs'), system.slice('stream-'.length), String(params.values ?? 10_000_000), 'built'] };
  }
  const child = workload.startsWith('real-') ? 'real/child.mjs' : 'child.mjs'; // bench/real/: issue 10's real workloads
  return { cmd: process.execPath, args: [...loader, join(benchDir, child), workload, system, JSON.stringify(params)] };
}

/** bench/stream-child.mjs prints one JSON line rather than `@@RESULT`: its rate is the value. */
function streamResult(out: string): Record<string, unknown> | undefined {
  const line = out.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) return undefined;
  const r = JSON.parse(line) as Record<string, unknown>;
  return { ...r, value: r.rate };
}

function runChild(workload: string, system: string, params: Record<string, unknown>, timeoutMs: number, argsOverride?: { cmd: string; args: string[] }): Promise<ChildOutcome> {
  const { cmd, args } = argsOverride ?? commandFor(workload, system, params);
  return new Promise((resolve) => {
    const t0 = performance.now();
    // detached: the child leads its own process group, so a timeout kills its workers too.
    const child = spawn(cmd, args, { cwd: root, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let firstMs: number | undefined;
    let hung = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (firstMs === undefined && (out + d).includes('@@FIRST')) firstMs = performance.now() - t0;
      out += d;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (err.length < 20_000) err += d;
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      hung = true;
      killGroup();
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      killGroup(); // strays (a worker process a pool forgot) must not disturb the next measurement
      const res = /^@@RESULT (.*)$/m.exec(out);
      const errLine = /^@@ERROR (.*)$/m.exec(out);
      if (hung) return resolve({ status: 'hung', wallMs, error: `no result after ${timeoutMs / 1000} s` });
      if (res && code === 0) return resolve({ status: 'ok', result: JSON.parse(res[1]!) as Record<string, unknown>, wallMs, firstMs });
      const streamed = system.startsWith('stream-') && code === 0 ? streamResult(out) : undefined;
      if (streamed) return resolve({ status: 'ok', result: streamed, wallMs });
      const why = errLine ? (JSON.parse(errLine[1]!) as string) : `exit ${code ?? signal}: ${err.trim().split('\n').slice(-2).join(' / ')}`;
      resolve({ status: 'failed', wallMs, error: why.slice(0, 300) });
    });
  });
}

// ---- a session: one child for every system and round of a workload -----------------------------
/** Why a session workload cannot run here, if it cannot. */
function sessionUnavailable(w: WorkloadDef): string | undefined {
  if (w.session !== 'redis.ts') return undefined;
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'redis-server is not installed here (`apt-get install -y redis-server`)';
  for (const p of ['bullmq', 'ioredis']) if (!existsSync(join(root, 'node_modules', p))) return `${p} is not installed (npm ci)`;
  for (const f of ['dist/cli.js', 'dist/redis/index.js']) if (!existsSync(join(root, f))) return `there is no ${f} (npm run build)`;
  return undefined;
}

/**
 * Runs `w.session` once under tsx for all `runs` rounds (bench/redis.ts starts a redis-server and
 * worker hosts, which only a whole session amortises) and turns its `@@RESULT {"rounds": […]}` into
 * one sample per system and round. Other people's load is sampled before and after only.
 */
async function runSession(w: WorkloadDef, runs: number, systems: readonly string[], samples: Sample[]): Promise<void> {
  const why = sessionUnavailable(w);
  if (why) {
    notes.push(`${w.title} was skipped: ${why}.`);
    log(`  skipped: ${why}`);
    for (const s of systems) samples.push({ workload: w.id, system: s, round: 0, status: 'skipped', wallMs: 0, error: why });
    return;
  }
  const load = await settle();
  const args = [tsxCli, join(benchDir, w.session!), '--json', '--built', '--rounds', String(runs), ...(quick ? ['--quick'] : [])];
  const o = await runChild(w.id, w.session!, {}, w.timeoutMs, { cmd: process.execPath, args });
  const after = await backgroundLoad();
  const noisy = Math.max(load, after) > BUSY;
  const at = new Date().toISOString();
  const rounds = (o.result?.rounds ?? []) as Record<string, Record<string, unknown>>[];
  if (o.status !== 'ok' || rounds.length === 0) {
    log(`  ${o.status.toUpperCase()}: ${o.error ?? 'no rounds in its result'}  (${(o.wallMs / 1000).toFixed(1)} s)`);
    for (const s of systems) samples.push({ at, workload: w.id, system: s, round: 0, status: o.status === 'ok' ? 'failed' : o.status, error: o.error ?? 'no rounds in its result', wallMs: o.wallMs });
    return;
  }
  rounds.forEach((row, r) => {
    for (const s of systems) {
      const m = row[s];
      const value = typeof m?.value === 'number' ? m.value : undefined;
      samples.push({ at, workload: w.id, system: s, round: r, status: value === undefined ? 'failed' : 'ok', value, extra: m, error: value === undefined ? `${w.session} reported no ${s}` : undefined, wallMs: o.wallMs, load, loadAfter: after, noisy, tries: 1 });
      log(`  r${r + 1} ${s.padEnd(26)} ${value === undefined ? 'MISSING' : fmt(value, w)}`);
    }
  });
  log(`  (one session, ${(o.wallMs / 1000).toFixed(1)} s${noisy ? `, machine ${(load * 100).toFixed(0)} % / ${(after * 100).toFixed(0)} % busy before / after` : ''})`);
}

// ---- calibration: ~20 ms of the CPU task, for Node and for Python separately -------------------
function calibrate(): { spin: number; pyspin: number } {
  const node = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { spin } from ${JSON.stringify(`file://${join(benchDir, 'workers/tasks.mjs')}`)};
       const n = 2_000_000; for (let i = 0; i < 5; i++) spin(n);
       const ts = []; for (let i = 0; i < 7; i++) { const t = performance.now(); spin(n); ts.push(performance.now() - t); }
       ts.sort((a, b) => a - b); console.log(Math.round(n * 20 / ts[3]));`,
    ],
    { encoding: 'utf8', env: childEnv },
  );
  const py = spawnSync(
    'python3',
    [
      '-c',
      `import sys, time; sys.path.insert(0, ${JSON.stringify(benchDir)}); from py_bench import spin
n = 100000; spin(n); ts = []
for _ in range(5):
    t = time.perf_counter(); spin(n); ts.append(time.perf_counter() - t)
ts.sort(); print(round(n * 0.020 / ts[2]))`,
    ],
    { encoding: 'utf8', env: childEnv },
  );
  return { spin: Number(node.stdout.trim()), pyspin: Number(py.stdout.trim()) };
}

// ---- machine --------------------------------------------------------------------------------
function machine(): Machine {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'missing';
    }
  };
  const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', cwd: root }).stdout?.trim() ?? '';
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    python: sh('python3', ['--version']).replace('Python ', ''),
    packages: Object.fromEntries(['piscina', 'tinypool', 'workerpool', 'threads', 'rxjs'].map((p) => [p, pkg(p)])),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: sh('git', ['log', '-1', '--format=%h %s']).slice(0, 100),
    os: sh('uname', ['-sr']),
  };
}

// ---- main -----------------------------------------------------------------------------------
/** `--from-json FILE`: rewrite RESULTS.md, the chart and the README section from a results.json. */
async function fromJson(file: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const j = JSON.parse(readFileSync(file, 'utf8')) as { machine: Machine; notes: string[]; calibration: { spin: number; pyspin: number }; samples: Sample[]; totalS?: number };
  const workloads = WORKLOADS.filter((w) => j.samples.some((x) => x.workload === w.id));
  const files = writeReport({ outDir, samples: j.samples, workloads, machine: j.machine, notes: j.notes, quick: false, totalS: j.totalS ?? 0, calibration: j.calibration, systems: SYSTEMS });
  if (outDir === benchDir) files.push(...updateReadme(j.samples, j.machine));
  log(`rewritten: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
}

function updateReadme(samples: Sample[], m: Machine): string[] {
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf('<!-- bench:start -->');
  const b = text.indexOf('<!-- bench:end -->');
  if (a < 0 || b < a) return [];
  writeFileSync(readme, `${text.slice(0, a)}<!-- bench:start -->\n${readmeSection(samples, m)}\n${text.slice(b)}`);
  return [readme];
}

async function main(): Promise<void> {
  const fj = option('from-json');
  if (fj) return fromJson(fj);
  const started = performance.now();
  prepareOurs();
  for (const n of notes) log(`note: ${n}`);
  const quietMin = option('wait-quiet');
  if (quietMin !== undefined) {
    const deadline = performance.now() + Number(quietMin || 10) * 60_000;
    let quietFor = 0;
    log(`waiting for 10 s of quiet (up to ${quietMin || 10} min)…`);
    while (quietFor < 10 && performance.now() < deadline) {
      quietFor = (await backgroundLoad(1000)) < BUSY ? quietFor + 1 : 0;
    }
    log(quietFor >= 10 ? 'quiet: starting' : 'still busy: starting anyway');
  }
  const cal = calibrate();
  log(`calibrated ~20 ms: spin(${cal.spin}) in Node, spin(${cal.pyspin}) in Python`);
  if (!(cal.spin > 0 && cal.pyspin > 0)) throw new Error('calibration failed');

  const samples: Sample[] = [];
  const workloads = WORKLOADS.filter((w) => !only || only.includes(w.id));
  for (const w of workloads) {
    const runs = runsOverride ?? (quick ? w.quickRuns : w.runs);
    let systems = (quick ? w.quickSystems : w.systems).filter((s) => byName.has(s));
    if (systemFilter) systems = w.systems.filter((s) => systemFilter.some((f) => s.includes(f)));
    if (runs === 0 || systems.length === 0) {
      if (quick) notes.push(`${w.title} was skipped by --quick (it takes minutes; the full run measures it).`);
      continue;
    }
    const skipped = systems.filter((s) => !oursAvailable(s));
    for (const s of skipped) samples.push({ workload: w.id, system: s, round: 0, status: 'skipped', wallMs: 0 });
    const active = systems.filter((s) => oursAvailable(s));
    log(`\n${w.title} — ${runs} round(s) × ${active.length} systems${skipped.length ? ` (${skipped.length} of ours skipped)` : ''}${w.session ? `, one ${w.session} session` : ''}`);
    if (w.session) {
      await runSession(w, runs, active, samples);
      continue;
    }
    const params: Record<string, unknown> = { ...w.params, spin: cal.spin, pyspin: cal.pyspin };
    for (let r = 0; r < runs; r++) {
      // Rotate the order every round so no system is always first (cold caches) or last.
      const k = active.length ? (r * Math.max(1, Math.floor(active.length / runs))) % active.length : 0;
      const order = [...active.slice(k), ...active.slice(0, k)].filter((s) => (w.maxRuns?.[s] ?? Infinity) > r);
      // A measurement during which someone else loaded the machine is run again at the end of
      // the same round (so its ratio partner is still minutes, not rounds, away), at most twice.
      let queue = order.map((s) => ({ s, tries: 0 }));
      while (queue.length) {
        const again: typeof queue = [];
        for (const { s, tries } of queue) {
          const load = await settle();
          const o = await runChild(w.id, s, params, w.timeoutMs);
          const after = await backgroundLoad();
          const value = typeof o.result?.value === 'number' ? o.result.value : undefined;
          const noisy = Math.max(load, after) > BUSY;
          const sample: Sample = { at: new Date().toISOString(), workload: w.id, system: s, round: r, status: o.status, value, extra: o.result, error: o.error, wallMs: o.wallMs, firstMs: o.firstMs, load, loadAfter: after, noisy, tries: tries + 1 };
          const prev = samples.findIndex((x) => x.workload === w.id && x.system === s && x.round === r);
          if (prev < 0) samples.push(sample);
          else if (!sample.noisy || samples[prev]!.status !== 'ok') samples[prev] = sample;
          const retry = noisy && o.status !== 'hung' && tries < 2 && retryBudgetMs > 0;
          if (retry) {
            again.push({ s, tries: tries + 1 });
            retryBudgetMs -= o.wallMs;
          }
          log(
            `  r${r + 1} ${s.padEnd(26)} ${o.status === 'ok' ? fmt(value!, w) : `${o.status.toUpperCase()}: ${o.error}`}  (${(o.wallMs / 1000).toFixed(1)} s` +
              `${noisy ? `, machine ${(load * 100).toFixed(0)} % / ${(after * 100).toFixed(0)} % busy before / after${retry ? ': again at the end of the round' : ''}` : ''})`,
          );
        }
        queue = again;
      }
    }
  }
  let totalS = (performance.now() - started) / 1000;
  const merge = option('merge');
  if (merge !== undefined) {
    // Re-measured workloads replace theirs in an earlier results.json; the others are kept as they
    // were (each workload's table stays one run: its ratios never pair samples across runs).
    const old = JSON.parse(readFileSync(merge || join(benchDir, 'results.json'), 'utf8')) as { samples: Sample[]; totalS?: number };
    const redone = new Set(samples.map((x) => x.workload));
    samples.unshift(...old.samples.filter((x) => !redone.has(x.workload)));
    notes.push(`Workloads re-measured in a later run and merged: ${[...redone].join(', ')} (each table's time span is shown with it).`);
    totalS += old.totalS ?? 0;
  }
  mkdirSync(outDir, { recursive: true });
  const m = machine();
  const files = writeReport({ outDir, samples, workloads: WORKLOADS.filter((w) => samples.some((x) => x.workload === w.id)), machine: m, notes, quick, totalS, calibration: cal, systems: SYSTEMS });
  // Only a full, unfiltered run speaks for the README.
  if (outDir === benchDir && !quick) files.push(...updateReadme(samples, m));
  log(`\ndone in ${totalS.toFixed(0)} s: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
}

function fmt(v: number, w: WorkloadDef): string {
  if (w.unit.endsWith('/s') && v >= 100) return `${Math.round(v).toLocaleString('en-US')} ${w.unit}`;
  return `${v.toFixed(v < 10 ? 3 : 1)} ${w.unit}`;
}

await main();
