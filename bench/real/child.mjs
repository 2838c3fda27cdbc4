// One measurement of a real workload: one system × one workload × one run, in a fresh Node
// process, started by bench/run.ts exactly as bench/child.mjs is:
//
//   node bench/real/child.mjs <real-minify|real-transpile|real-etl> <system> '<params json>'
//
// The clock runs from pool construction (the loop: from importing the task module) to the last
// result; libraries (piscina, rxjs-pools, …) are imported and inputs read before it starts. The
// output is checked equal, item by item, to the plain loop's (a digest of it, cached in
// bench/.out/ per input and package version): a system that differs fails the measurement.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { jsFiles, ndjson, tsFiles } from './inputs.mjs';

const [workload, systemName, paramsJson] = process.argv.slice(2);
const P = JSON.parse(paramsJson || '{}');
const now = () => performance.now();
const require = createRequire(import.meta.url);

const TASKS = {
  'real-minify': { fn: 'minify', items: () => jsFiles(P.files).map((f) => f.code) },
  'real-transpile': { fn: 'transpile', items: () => tsFiles(P.files).map((f) => f.code) },
  'real-etl': { fn: 'etl', items: () => ndjson(P.records ?? 200_000, P.seed) },
};
const W = TASKS[workload];
if (!W) throw new Error(`unknown workload ${workload}`);
const fnName = W.fn;
const moduleUrl = new URL(`./${fnName}.mjs`, import.meta.url);
const workers = P.workers ?? 2;

// ---- systems: open() → { map(items) → Promise<results in input order>, close() } -------------
/** Time to the first result (from the clock's start), for the profile of start-up costs. */
let t0 = 0;
let firstMs;
const mark = (r) => {
  firstMs ??= now() - t0;
  return r;
};
const promiseSession = (call, close) => ({ map: (items) => Promise.all(items.map((x) => call(x).then(mark))), close });

let lib;
let rx;
async function ours() {
  lib ??= await import('../../dist/index.js');
  rx ??= await import('rxjs');
}

/** rxjs-pools' operator: `from(items).pipe(op(fn, options), toArray())`, its own pool per subscription. */
function operatorSystem(opName, options) {
  return {
    load: ours,
    open() {
      const fn = lib.task(moduleUrl, fnName);
      const op = lib[opName];
      return { map: (items) => rx.lastValueFrom(rx.from(items).pipe(options ? op(fn, options) : op(fn), rx.tap(mark), rx.toArray())), close() {} };
    },
  };
}

/** rxjs-pools' executor: `for await (const r of pool.map(fn, items))`. */
function poolSystem(poolName, poolOptions, mapOptions) {
  return {
    load: ours,
    open() {
      const pool = poolOptions ? new lib[poolName](poolOptions) : new lib[poolName]();
      const fn = lib.task(moduleUrl, fnName);
      return {
        async map(items) {
          const out = [];
          for await (const r of mapOptions ? pool.map(fn, items, mapOptions) : pool.map(fn, items)) out.push(mark(r));
          return out;
        },
        close: () => pool.shutdown(),
      };
    },
  };
}

const without = (o = {}, key) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

const systems = {
  /** The baseline: the same function in a plain loop on this thread, importing its module first. */
  loop: {
    load: async () => {},
    open() {
      return {
        async map(items) {
          const fn = (await import(moduleUrl.href))[fnName];
          const out = new Array(items.length);
          for (let i = 0; i < items.length; i++) out[i] = mark(await fn(items[i]));
          return out;
        },
        close() {},
      };
    },
  },
  'ours-mapOnThreads': operatorSystem('mapOnThreads'),
  'ours-thread-map': poolSystem('ThreadPool'),
  // Tuned: the workload's `tuned` options (bench/real/workloads.ts says which and why).
  'ours-mapOnThreads-tuned': operatorSystem('mapOnThreads', P.tuned ?? {}),
  'ours-thread-map-tuned': poolSystem('ThreadPool', without(P.tuned, 'chunksize'), P.tuned?.chunksize ? { chunksize: P.tuned.chunksize } : undefined),
  'ours-mapOnProcesses': operatorSystem('mapOnProcesses'),
  'ours-process-map': poolSystem('ProcessPool'),
  piscina: {
    load: () => import('piscina'),
    async open() {
      const { Piscina } = await import('piscina');
      const pool = new Piscina({ filename: moduleUrl.href, minThreads: workers, maxThreads: workers });
      return promiseSession((x) => pool.run(x, { name: fnName }), () => pool.destroy());
    },
  },
  'tinypool-thread': {
    load: () => import('tinypool'),
    async open() {
      const { default: Tinypool } = await import('tinypool');
      const pool = new Tinypool({ filename: moduleUrl.href, minThreads: workers, maxThreads: workers });
      return promiseSession((x) => pool.run(x, { name: fnName }), () => pool.destroy());
    },
  },
  'workerpool-thread': {
    load: () => import('workerpool'),
    async open() {
      const { default: workerpool } = await import('workerpool');
      process.env.REAL_TASK = fnName;
      const pool = workerpool.pool(fileURLToPath(new URL('./workerpool-worker.mjs', import.meta.url)), {
        minWorkers: workers,
        maxWorkers: workers,
        workerType: 'thread',
      });
      return promiseSession((x) => pool.exec(fnName, [x]), () => pool.terminate());
    },
  },
  // The ceiling of any pool on this machine: raw worker_threads, 1,024 items a message, two
  // messages in flight a worker, nothing else (no order bookkeeping, no errors, no cancellation).
  'raw-thread-b1024': {
    load: async () => {},
    async open() {
      const { Worker } = await import('node:worker_threads');
      const src = `import { parentPort } from 'node:worker_threads'; import { ${fnName} } from ${JSON.stringify(moduleUrl.href)};
        parentPort.on('message', ({ i, batch }) => parentPort.postMessage({ i, out: batch.map(${fnName}) }));`;
      const ws = Array.from({ length: workers }, () => new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`)));
      return {
        map: (items) =>
          new Promise((resolve, reject) => {
            const out = new Array(items.length);
            let next = 0;
            let pending = 0;
            const send = (w) => {
              if (next < items.length) {
                w.postMessage({ i: next, batch: items.slice(next, next + 1024) });
                next += 1024;
                pending++;
              } else if (pending === 0) resolve(out);
            };
            for (const w of ws) {
              w.on('error', reject);
              w.on('message', ({ i, out: rs }) => {
                for (let k = 0; k < rs.length; k++) out[i + k] = mark(rs[k]);
                pending--;
                send(w);
              });
              send(w);
              send(w);
            }
          }),
        close: () => Promise.all(ws.map((w) => w.terminate())),
      };
    },
  },
  // jest-worker as terser-webpack-plugin uses it: child processes (its default), each of which
  // require()s the task module (an ES module: Node ≥ 20.19 loads it with require).
  'jest-worker': {
    load: () => import('jest-worker'),
    async open() {
      const { Worker } = await import('jest-worker');
      const pool = new Worker(fileURLToPath(moduleUrl), { numWorkers: workers, exposedMethods: [fnName] });
      return promiseSession((x) => pool[fnName](x), () => pool.end());
    },
  },
};

// ---- the expected output: the loop's, as a digest --------------------------------------------
function digest(results) {
  const h = createHash('sha256');
  for (const r of results) h.update(typeof r === 'string' ? r : JSON.stringify(r)).update('\0');
  return h.digest('hex');
}
function version(pkg) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;
  } catch {
    return 'none';
  }
}
const cacheDir = fileURLToPath(new URL('../.out/', import.meta.url));
const cacheFile = `${cacheDir}real-expected.json`;
const readCache = () => (existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {});
async function expected(items, key) {
  const cached = readCache()[key];
  if (cached) return cached;
  const fn = (await import(moduleUrl.href))[fnName];
  const out = [];
  for (const x of items) out.push(await fn(x));
  const d = digest(out);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ ...readCache(), [key]: d }, null, 1));
  return d;
}

/** Shut a session down, but never let a peer's shutdown hang the measurement. */
function closeSoon(s) {
  return Promise.race([Promise.resolve().then(() => s.close()), new Promise((r) => setTimeout(r, 3000).unref())]).catch(() => {});
}

const sys = systems[systemName];
try {
  if (!sys) throw new Error(`unknown system ${systemName} for ${workload}`);
  const items = W.items();
  const key = `${workload} ${digest(items)} terser ${version('terser')} typescript ${version('typescript')} node ${process.version}`;
  await sys.load();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  t0 = now();
  const s = await sys.open();
  const results = await s.map(items);
  const ms = now() - t0;
  // Where the time went: this thread's busy time, and CPU time of the whole process (its worker
  // threads included; child processes not).
  const mainBusyMs = performance.eventLoopUtilization(elu0).active;
  const cpu = process.cpuUsage(cpu0);
  await closeSoon(s);
  if (results.length !== items.length) throw new Error(`wrong result: ${results.length} results for ${items.length} items`);
  const got = digest(results);
  const want = await expected(items, key);
  if (got !== want) throw new Error(`wrong result: output differs from the loop's (digest ${got.slice(0, 12)}, loop ${want.slice(0, 12)})`);
  process.stdout.write(`@@RESULT ${JSON.stringify({ value: ms / 1000, unit: 's', ms, firstMs, mainBusyMs, cpuMs: (cpu.user + cpu.system) / 1000, items: items.length })}\n`);
  process.exit(0);
} catch (err) {
  process.stdout.write(`@@ERROR ${JSON.stringify(String(err?.message ? `${err.name}: ${err.message}` : err).split('\n')[0])}\n`);
  process.exit(1);
}
