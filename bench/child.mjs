// One measurement: one system x one workload x one run, in a fresh Node process.
//
//   node bench/child.mjs <workload> <system> '<params json>'
//
// Prints `@@FIRST` the moment a cold-start pool returns its first result (the parent timestamps it)
// and `@@RESULT {json}` at the end. Plain .mjs run by plain `node` on purpose: tsx's loader is
// inherited by worker threads and forked children and would tax every system's start-up
// differently from what users of the built packages get. The `-tsx` systems are the exception,
// on purpose too: run.ts starts them with the tsx binary (`tsx child.mjs <workload> <system>-tsx`),
// the way `npx tsx script.ts` runs a user's script, and they measure what that loader costs (or
// does not cost) each library; the suffix is dropped here, the system is the same.
import { Worker } from 'node:worker_threads';
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as tasks from './workers/tasks.mjs';

const [workload, systemArg, paramsJson] = process.argv.slice(2);
const systemName = systemArg.replace(/-tsx$/, '');
const P = JSON.parse(paramsJson || '{}');
const here = (file) => new URL(file, import.meta.url);
const now = () => performance.now();

// ---------------------------------------------------------------------------------------------
// Systems. Each `open(workers)` returns a session:
//   run(fnName, items)          -> Promise<results[]> in input order
//   runWarm(fnName, warm, items) -> { ms, results }: timed after the warm items (default: two runs)
//   roundTrip(buf, move)        -> Promise<ArrayBuffer | view>
//   stream(fnName, n, onResult) -> in-order results of fn(0..n-1), bounded in flight
//   close()
// ---------------------------------------------------------------------------------------------

/** In-order results with a bounded number in flight, for peers whose API is one promise a task. */
async function windowed(call, fnName, n, onResult, window = 64) {
  const q = [];
  for (let i = 0; i < n; i++) {
    q.push(call(fnName, i));
    if (q.length >= window) onResult(await q.shift());
  }
  while (q.length) onResult(await q.shift());
}

function promiseSession(call, close, extra = {}) {
  return {
    run: (fnName, items) => Promise.all(items.map((x) => call(fnName, x))),
    stream: (fnName, n, onResult) => windowed(call, fnName, n, onResult),
    close,
    ...extra,
  };
}

/** piscina and tinypool (a fork of it) share one API: `run(arg, { name, transferList })`. */
function piscinaSession(pool) {
  return promiseSession(
    (name, x) => pool.run(x, { name }),
    () => pool.destroy(),
    {
      roundTrip: (buf, move) =>
        move ? pool.run(buf, { name: 'echoMove', transferList: [buf] }) : pool.run(buf, { name: 'echo' }),
    },
  );
}

const peers = {
  async piscina(workers) {
    const { Piscina } = await import('piscina');
    return piscinaSession(new Piscina({ filename: here('./workers/piscina-worker.mjs').href, minThreads: workers, maxThreads: workers }));
  },
  async tinypool(workers, runtime) {
    const { default: Tinypool } = await import('tinypool');
    return piscinaSession(
      new Tinypool({ filename: here('./workers/tinypool-worker.mjs').href, runtime, minThreads: workers, maxThreads: workers }),
    );
  },
  async workerpool(workers, workerType) {
    const { default: workerpool } = await import('workerpool');
    const pool = workerpool.pool(here('./workers/workerpool-worker.mjs').pathname, {
      minWorkers: workers,
      maxWorkers: workers,
      workerType,
    });
    return promiseSession(
      (name, x) => pool.exec(name, [x]),
      () => pool.terminate(),
      {
        roundTrip: (buf, move) =>
          move ? pool.exec('echoMove', [buf], { transfer: [buf] }) : pool.exec('echo', [buf]),
      },
    );
  },
  async threadsjs(workers) {
    const { spawn, Pool, Worker: TWorker, Transfer } = await import('threads');
    // threads.js joins the path onto its caller's directory (found with callsites) even when the
    // path is absolute ('/a/b' becomes '/a/a/b'), so it must be relative to this file.
    const pool = Pool(() => spawn(new TWorker('./workers/threadsjs-worker.mjs')), workers);
    const call = (name, x) => pool.queue((w) => w[name](x));
    return promiseSession(
      // QueuedTask is a thenable, not a Promise; wrap so Promise.all/await treat it uniformly.
      (name, x) => Promise.resolve(call(name, x)),
      () => pool.terminate(true),
      {
        roundTrip: (buf, move) =>
          Promise.resolve(pool.queue((w) => (move ? w.echoMove(Transfer(buf)) : w.echo(buf)))),
      },
    );
  },
};

/**
 * Raw round trips, hand-written: `perMsg` items per message, `window` messages in flight per
 * worker (1 = strict request/response). Items are dispatched in order to whichever worker replies.
 */
function rawSession(chans, { perMsg, window }, close) {
  function dispatch(fnName, n, itemAt, onResult) {
    return new Promise((resolve) => {
      if (n === 0) return resolve();
      let next = 0;
      let done = 0;
      const sendNext = (ch) => {
        if (next >= n) return;
        const start = next;
        const end = Math.min(n, start + perMsg);
        next = end;
        if (perMsg === 1) ch.send([start, fnName, itemAt(start), false]);
        else {
          const batch = new Array(end - start);
          for (let i = start; i < end; i++) batch[i - start] = itemAt(i);
          ch.send([start, fnName, batch, true]);
        }
      };
      for (const ch of chans) {
        ch.handler = (m) => {
          const id = m[0];
          if (perMsg === 1) {
            onResult(id, m[1]);
            done++;
          } else {
            const r = m[1];
            for (let j = 0; j < r.length; j++) onResult(id + j, r[j]);
            done += r.length;
          }
          if (done === n) resolve();
          else sendNext(ch);
        };
      }
      for (let k = 0; k < window; k++) for (const ch of chans) sendNext(ch);
    });
  }
  return {
    async run(fnName, items) {
      const out = new Array(items.length);
      await dispatch(fnName, items.length, (i) => items[i], (i, v) => (out[i] = v));
      return out;
    },
    async stream(fnName, n, onResult) {
      // Reorder buffer: bounded by the number of items in flight.
      const held = new Map();
      let emit = 0;
      await dispatch(fnName, n, (i) => i, (i, v) => {
        if (i !== emit) return void held.set(i, v);
        onResult(v);
        emit++;
        while (held.has(emit)) {
          onResult(held.get(emit));
          held.delete(emit);
          emit++;
        }
      });
    },
    roundTrip(buf, move) {
      return new Promise((resolve) => {
        chans[0].handler = (m) => resolve(m[1]);
        chans[0].send([0, move ? 'echoMove' : 'echo', buf, false], move ? [buf] : undefined);
      });
    },
    close,
  };
}

async function rawThreads(workers, mode) {
  const chans = [];
  // Messages posted before a worker is online are queued: not waiting is the fastest first result.
  for (let i = 0; i < workers; i++) {
    const w = new Worker(here('./workers/raw-thread.mjs'));
    const ch = { handler: null, send: (m, t) => w.postMessage(m, t), w };
    w.on('message', (m) => ch.handler(m));
    chans.push(ch);
  }
  return rawSession(chans, mode, () => Promise.all(chans.map((c) => c.w.terminate())));
}

async function rawForks(workers, mode) {
  // JSON (the default) is the fastest IPC serialization for small items, but it turns an
  // ArrayBuffer into {}: the transfer workload needs 'advanced' (structured clone).
  const serialization = workload.startsWith('transfer') ? 'advanced' : 'json';
  const chans = [];
  for (let i = 0; i < workers; i++) {
    const c = fork(here('./workers/raw-fork.mjs'), [], { serialization, stdio: 'inherit' });
    const ch = { handler: null, send: (m) => c.send(m), c };
    c.on('message', (m) => ch.handler(m));
    chans.push(ch);
  }
  return rawSession(chans, mode, async () => {
    for (const ch of chans) ch.c.kill();
  });
}

// ---- ours, from the built output (dist/), written against the API of issues 2 and 3 ----------
let ours;
/** When ours' run() (map or an operator) emitted its first result: the seed's start-up, measured. */
let firstResultAt;
async function loadOurs() {
  ours ??= await import('../dist/index.js');
  return ours;
}

const fns = tasks; // inline, self-contained functions: rxjs-pools sends them by source

async function oursPool(workers, runtime, variant) {
  const lib = await loadOurs();
  const Pool = runtime === 'thread' ? lib.ThreadPool : lib.ProcessPool;
  if (typeof Pool !== 'function') throw new Error(`dist/index.js has no ${runtime === 'thread' ? 'ThreadPool' : 'ProcessPool'}`);
  const pool = new Pool({ maxWorkers: workers });
  const mapOpts = { ...(variant.chunksize ? { chunksize: variant.chunksize } : {}), ...(variant.buffersize ? { buffersize: variant.buffersize } : {}) };
  const submitRun = (fnName, items) => Promise.all(items.map((x) => pool.submit(fns[fnName], [x])));
  const mapRun = async (fnName, items) => {
    const out = [];
    for await (const v of pool.map(fns[fnName], items, mapOpts)) {
      firstResultAt ??= now();
      out.push(v);
    }
    return out;
  };
  return {
    run: variant.api === 'submit' ? submitRun : mapRun,
    async stream(fnName, n, onResult) {
      if (variant.api === 'submit') return windowed((f, x) => pool.submit(fns[f], [x]), fnName, n, onResult);
      function* gen() {
        for (let i = 0; i < n; i++) yield i;
      }
      if (variant.api === 'pull') {
        // The documented pull path for huge inputs: from(pool.map(fn, hugeIterable)).
        const { from } = await import('rxjs');
        await new Promise((resolve, reject) =>
          from(pool.map(fns[fnName], gen(), mapOpts)).subscribe({ next: onResult, error: reject, complete: resolve }),
        );
        return;
      }
      for await (const v of pool.map(fns[fnName], gen(), mapOpts)) onResult(v);
    },
    roundTrip: (buf, move) =>
      move ? pool.submit(lib.task(new URL('./workers/ours-tasks.mjs', import.meta.url), 'echoMove'), [buf], { transfer: [buf] }) : pool.submit(fns.echo, [buf]),
    close: () => pool.shutdown(),
  };
}

async function oursOperator(workers, runtime, variant) {
  const lib = await loadOurs();
  const op = runtime === 'thread' ? lib.mapOnThreads : lib.mapOnProcesses;
  if (typeof op !== 'function') throw new Error(`dist/index.js has no ${runtime === 'thread' ? 'mapOnThreads' : 'mapOnProcesses'}`);
  const { Subject, from, range, lastValueFrom, tap, toArray } = await import('rxjs');
  const opts = {
    maxWorkers: workers,
    ...(variant.chunksize ? { chunksize: variant.chunksize } : {}),
    ...(variant.concurrency ? { concurrency: variant.concurrency } : {}),
  };
  // Every subscription gets its own pool, started lazily, so a session is only a config.
  return {
    run: (fnName, items) => lastValueFrom(from(items).pipe(op(fns[fnName], opts), tap(() => (firstResultAt ??= now())), toArray())),
    // Warm items and timed items go through one subscription (one pool): the clock starts when
    // the last warm result is out, so worker start-up is excluded as it is for every peer.
    runWarm(fnName, warm, items) {
      return new Promise((resolve, reject) => {
        const src = new Subject();
        const out = [];
        let seen = 0;
        let t0 = 0;
        src.pipe(op(fns[fnName], opts)).subscribe({
          next(v) {
            if (seen < warm.length) {
              if (++seen === warm.length) {
                setImmediate(() => {
                  t0 = now();
                  for (const x of items) src.next(x);
                  src.complete();
                });
              }
            } else out.push(v);
          },
          error: reject,
          complete: () => resolve({ ms: now() - t0, results: out }),
        });
        for (const x of warm) src.next(x);
      });
    },
    stream(fnName, n, onResult) {
      if (!variant.paced) {
        return new Promise((resolve, reject) =>
          range(0, n).pipe(op(fns[fnName], opts)).subscribe({ next: onResult, error: reject, complete: resolve }),
        );
      }
      // The README's pattern for inputs larger than memory through the operators: a source paced
      // by its consumer (as a file or socket reader is), never more than `window` items ahead.
      const window = variant.paced;
      let received = 0;
      let resume;
      async function* paced() {
        for (let i = 0; i < n; i++) {
          if (i - received >= window) await new Promise((r) => (resume = r));
          yield i;
        }
      }
      return new Promise((resolve, reject) =>
        from(paced()).pipe(op(fns[fnName], opts)).subscribe({
          next(v) {
            received++;
            onResult(v);
            const wake = resume;
            resume = undefined;
            wake?.();
          },
          error: reject,
          complete: resolve,
        }),
      );
    },
    async close() {},
  };
}

// `load` imports the system's library (timed apart from construction in the cold-start workload).
const load = {
  piscina: () => import('piscina'),
  tinypool: () => import('tinypool'),
  workerpool: () => import('workerpool'),
  threadsjs: () => import('threads'),
  raw: async () => {},
  ours: () => loadOurs(),
  oursOperators: () => Promise.all([loadOurs(), import('rxjs')]),
};
const systems = {
  piscina: { load: load.piscina, open: (w) => peers.piscina(w) },
  'tinypool-thread': { load: load.tinypool, open: (w) => peers.tinypool(w, 'worker_threads') },
  'tinypool-process': { load: load.tinypool, open: (w) => peers.tinypool(w, 'child_process') },
  'workerpool-thread': { load: load.workerpool, open: (w) => peers.workerpool(w, 'thread') },
  'workerpool-process': { load: load.workerpool, open: (w) => peers.workerpool(w, 'process') },
  threadsjs: { load: load.threadsjs, open: (w) => peers.threadsjs(w) },
  'raw-thread-1': { load: load.raw, open: (w) => rawThreads(w, { perMsg: 1, window: 1 }) },
  'raw-thread-pipe': { load: load.raw, open: (w) => rawThreads(w, { perMsg: 1, window: P.rawWindow ?? 32 }) },
  'raw-thread-b64': { load: load.raw, open: (w) => rawThreads(w, { perMsg: 64, window: 4 }) },
  'raw-fork-1': { load: load.raw, open: (w) => rawForks(w, { perMsg: 1, window: 1 }) },
  'raw-fork-pipe': { load: load.raw, open: (w) => rawForks(w, { perMsg: 1, window: P.rawWindow ?? 32 }) },
  'raw-fork-b64': { load: load.raw, open: (w) => rawForks(w, { perMsg: 64, window: 4 }) },
};
for (const rt of ['thread', 'process']) {
  const pool = (variant) => ({ load: load.ours, open: (w) => oursPool(w, rt, variant) });
  systems[`ours-${rt}-submit`] = pool({ api: 'submit' });
  systems[`ours-${rt}-map`] = pool({ api: 'map' });
  systems[`ours-${rt}-pull`] = { ...pool({ api: 'pull' }), load: load.oursOperators };
  for (const c of [1, 4, 16, 64, 256]) systems[`ours-${rt}-map-c${c}`] = pool({ api: 'map', chunksize: c });
  const opName = rt === 'thread' ? 'mapOnThreads' : 'mapOnProcesses';
  const op = (variant) => ({ load: load.oursOperators, open: (w) => oursOperator(w, rt, variant) });
  systems[`ours-${opName}`] = op({});
  // The operator's default concurrency is the pool's batching hint and its default chunksize 'auto';
  // k64 fixes the concurrency, k64-c1 both: one item a batch, the operator's per-item path, to be
  // held against ThreadPool.map at chunksize 1 (unbatched both).
  systems[`ours-${opName}-k64`] = op({ concurrency: 64 });
  systems[`ours-${opName}-k64-c1`] = op({ concurrency: 64, chunksize: 1 });
  for (const c of [64, 256]) systems[`ours-${opName}-c${c}`] = op({ chunksize: c });
  systems[`ours-${opName}-paced`] = op({ chunksize: 256, paced: 10_000 });
}

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

function check(cond, what) {
  if (!cond) throw new Error(`wrong result: ${what}`);
}

async function runWarm(s, fnName, warm, items) {
  if (s.runWarm) return s.runWarm(fnName, warm, items);
  await s.run(fnName, warm);
  const t0 = now();
  const results = await s.run(fnName, items);
  return { ms: now() - t0, results };
}

const workloads = {
  /** 1. 20,000 x => x + 1 on 2 workers, in order, after a warm-up that starts every worker. */
  async overhead(sys) {
    const n = P.n ?? 20_000;
    const s = await sys.open(P.workers ?? 2);
    const warm = Array.from({ length: P.warm ?? 512 }, (_, i) => i);
    const items = Array.from({ length: n }, (_, i) => i);
    const { ms, results } = await runWarm(s, 'inc', warm, items);
    check(results.length === n, `${results.length} results for ${n} items`);
    for (let i = 0; i < n; i++) check(results[i] === i + 1, `item ${i} gave ${results[i]}`);
    await closeSoon(s);
    return { value: (n / ms) * 1000, unit: 'tasks/s', ms };
  },

  /** 2. 64 tasks of ~20 ms; speedup over the same 64 on this process's main thread. */
  async cpu(sys) {
    const n = P.spin;
    const tasksN = P.tasks ?? 64;
    const onMain = () => {
      const t0 = now();
      for (let i = 0; i < tasksN; i++) tasks.spin(n);
      return now() - t0;
    };
    tasks.spin(n);
    const expected = tasks.spin(n);
    // Main thread timed before and after the pool, the faster taken: noise only slows things.
    let mainMs = onMain();
    const s = await sys.open(P.workers ?? 2);
    const warm = Array.from({ length: 4 }, () => n >> 2);
    const items = Array.from({ length: tasksN }, () => n);
    const { ms, results } = await runWarm(s, 'spin', warm, items);
    mainMs = Math.min(mainMs, onMain());
    check(results.length === tasksN && results.every((r) => r === expected), 'spin results');
    await closeSoon(s);
    return { value: mainMs / ms, unit: 'x', ms, mainMs, perTaskMs: mainMs / tasksN };
  },

  /** 3. Construct a pool and get its first result, in this fresh process. */
  async cold(sys) {
    let t0 = now();
    await sys.load();
    const importMs = now() - t0;
    t0 = now();
    // Pools get P.workers (2, as in workload 1; 3 under cold-tsx); the raw round trip is the floor: 1 worker.
    const s = await sys.open(systemName.startsWith('raw-') ? 1 : (P.workers ?? 2));
    const [r] = await s.run('inc', [1]);
    const ms = now() - t0;
    process.stdout.write('@@FIRST\n');
    check(r === 2, `first result ${r}`);
    // performance.now() counts from this process's start: node boot + imports + pool + first task.
    const sinceProcessStart = now();
    closeSoon(s);
    return { value: ms, unit: 'ms', sinceProcessStart, importMs };
  },

  /** 4. A 16 MB ArrayBuffer there and back, copied (structured clone) or transferred. */
  async transfer(sys, move) {
    const bytes = (P.mb ?? 16) << 20;
    const reps = P.reps ?? 8;
    const s = await sys.open(1);
    let buf = new ArrayBuffer(bytes);
    const mark = (b) => {
      const v = new Uint8Array(b);
      v[0] = 7;
      v[bytes - 1] = 9;
    };
    mark(buf);
    const times = [];
    let detached = true;
    for (let i = 0; i < reps + 2; i++) {
      const sent = buf;
      const t0 = now();
      const back = await s.roundTrip(buf, move);
      const ms = now() - t0;
      if (sent.byteLength !== 0) detached = false;
      const view = back instanceof ArrayBuffer ? new Uint8Array(back) : ArrayBuffer.isView(back) ? new Uint8Array(back.buffer, back.byteOffset, back.byteLength) : null;
      check(view && view.byteLength === bytes && view[0] === 7 && view[bytes - 1] === 9,
        view ? `got back ${view.byteLength} bytes, not the same ${bytes}` : `got back ${Object.prototype.toString.call(back)}, not an ArrayBuffer (IPC serialised as JSON)`);
      buf = back instanceof ArrayBuffer ? back : view.slice().buffer;
      if (i >= 2) times.push(ms);
    }
    times.sort((a, b) => a - b);
    await closeSoon(s);
    return { value: times[times.length >> 1], unit: 'ms', detached: move ? detached : undefined, mbps: (2 * (bytes / 2 ** 20)) / (times[times.length >> 1] / 1000) };
  },

  /** 5. The seed: construct a pool of 3, run the blocking tasks, until the last result. */
  async seed(sys, kind) {
    const items = kind === 'threads' ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2, 3, 4, 5, 11, 12, 14];
    const fnName = kind === 'threads' ? 'seedThread' : 'seedProcess';
    const t0 = now();
    const s = await sys.open(3);
    const results = await s.run(fnName, items);
    const ms = now() - t0;
    check(results.join() === items.map((x) => (kind === 'threads' ? x : x * x)).join(), `results ${results}`);
    await closeSoon(s);
    // Ours only: construction → first (in-order) result, which is the first task plus all start-up.
    return { value: ms / 1000, unit: 's', firstS: firstResultAt === undefined ? undefined : (firstResultAt - t0) / 1000 };
  },

  /** 6. A million x => x + 1 streamed in order; peak RSS growth, sampled and from getrusage. */
  async memory(sys) {
    const n = P.n ?? 1_000_000;
    global.gc?.();
    const base = process.memoryUsage.rss();
    let peak = base;
    const timer = setInterval(() => {
      const r = process.memoryUsage.rss();
      if (r > peak) peak = r;
    }, 5);
    const t0 = now();
    const s = await sys.open(P.workers ?? 2);
    let expect = 1;
    let bad = -1;
    await s.stream('inc', n, (v) => {
      if (v !== expect && bad < 0) bad = expect;
      expect++;
      if ((expect & 0x3fff) === 0) {
        const r = process.memoryUsage.rss();
        if (r > peak) peak = r;
      }
    });
    const ms = now() - t0;
    clearInterval(timer);
    check(bad < 0, `out of order at ${bad}`);
    check(expect === n + 1, `${expect - 1} results for ${n} items`);
    const maxRss = process.resourceUsage().maxRSS * 1024; // lifetime high-water mark, bytes
    peak = Math.max(peak, maxRss);
    await closeSoon(s);
    return { value: (peak - base) / 2 ** 20, unit: 'MB', baseMB: base / 2 ** 20, itemsPerSec: (n / ms) * 1000 };
  },
};

/** Shut a session down, but never let a peer's shutdown hang the measurement. */
function closeSoon(s) {
  return Promise.race([Promise.resolve().then(() => s.close()), new Promise((r) => setTimeout(r, 3000).unref())]).catch(() => {});
}

const sys = systems[systemName];
if (!sys) {
  console.error(`unknown system ${systemName}`);
  process.exit(2);
}
try {
  // Libraries are imported before any clock starts (cold start times its import separately).
  if (workload !== 'cold' && workload !== 'cold-tsx') await sys.load();
  let result;
  if (workload === 'transfer-copy') result = await workloads.transfer(sys, false);
  else if (workload === 'transfer-move') result = await workloads.transfer(sys, true);
  else if (workload === 'cold-tsx') result = await workloads.cold(sys);
  else if (workload === 'seed-threads') result = await workloads.seed(sys, 'threads');
  else if (workload === 'seed-processes') result = await workloads.seed(sys, 'processes');
  else if (workloads[workload]) result = await workloads[workload](sys);
  else throw new Error(`unknown workload ${workload}`);
  process.stdout.write(`@@RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (err) {
  process.stdout.write(`@@ERROR ${JSON.stringify(String(err?.message ? `${err.name}: ${err.message}` : err).split('\n')[0])}\n`);
  process.exit(1);
}
