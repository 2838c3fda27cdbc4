// The cost of staying on threads.js behind rxjs-pools' operators, against moving to ThreadPool:
// the same tiny task (x => x + 1, from bench/workers) on 2 workers, every system in each round.
//   npx tsx bench/threadsjs/adapter-cost.mjs            (the source, as under tsx)
//   npm run build && node bench/threadsjs/adapter-cost.mjs --built
// Options: --n 5000 (items a round), --rounds 3. Prints a table of medians (min–max over rounds)
// and each system's ratio to `ThreadPool, mapOnPool` taken within the same round.
import { Piscina } from 'piscina';
import { from, lastValueFrom, toArray } from 'rxjs';
import { Pool as ThreadsPool, spawn, Worker as ThreadsWorker } from 'threads';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const built = process.argv.includes('--built');
const N = arg('n', 5000);
const ROUNDS = arg('rounds', 3);
const WORKERS = 2;
const lib = built ? '../../dist' : '../../src';
const ext = built ? 'js' : 'ts';
const { ThreadPool, mapOnPool, task } = await import(`${lib}/index.${ext}`);
const { fromPiscina, fromThreadsPool } = await import(`${lib}/adapters/index.${ext}`);

const inc = task(new URL('../workers/tasks.mjs', import.meta.url), 'inc');
const items = Array.from({ length: N }, (_, i) => i);
const check = (out, xs, name) => {
  if (out.length !== xs.length || out.some((y, i) => y !== xs[i] + 1)) throw new Error(`${name}: wrong results`);
};

// Each: open a pool of WORKERS, return { run(items) -> results in order, close() }.
const systems = {
  'threads.js, every task queued at once': async () => {
    // threads.js resolves a worker path against its caller's file: keep it relative.
    const pool = ThreadsPool(() => spawn(new ThreadsWorker('../workers/threadsjs-worker.mjs')), WORKERS);
    return { run: (xs) => Promise.all(xs.map((x) => Promise.resolve(pool.queue((w) => w.inc(x))))), close: () => pool.terminate(true) };
  },
  'threads.js, mapOnPool(fromThreadsPool)': async () => {
    const pool = ThreadsPool(() => spawn(new ThreadsWorker('../workers/threadsjs-worker.mjs')), WORKERS);
    const adapted = fromThreadsPool(pool);
    return { run: (xs) => lastValueFrom(from(xs).pipe(mapOnPool(adapted, inc), toArray())), close: () => pool.terminate(true) };
  },
  'piscina, mapOnPool(fromPiscina)': async () => {
    const filename = new URL('../workers/piscina-worker.mjs', import.meta.url).href;
    const pool = new Piscina({ filename, minThreads: WORKERS, maxThreads: WORKERS });
    const adapted = fromPiscina(pool);
    const ref = task(filename, 'inc');
    return { run: (xs) => lastValueFrom(from(xs).pipe(mapOnPool(adapted, ref), toArray())), close: () => pool.destroy() };
  },
  'ThreadPool, mapOnPool': async () => {
    const pool = new ThreadPool({ maxWorkers: WORKERS });
    return { run: (xs) => lastValueFrom(from(xs).pipe(mapOnPool(pool, inc), toArray())), close: () => pool.shutdown() };
  },
  'ThreadPool, mapOnPool chunksize 64': async () => {
    const pool = new ThreadPool({ maxWorkers: WORKERS });
    return { run: (xs) => lastValueFrom(from(xs).pipe(mapOnPool(pool, inc, { chunksize: 64 }), toArray())), close: () => pool.shutdown() };
  },
};
const BASE = 'ThreadPool, mapOnPool';

const rates = Object.fromEntries(Object.keys(systems).map((k) => [k, []]));
const ratios = Object.fromEntries(Object.keys(systems).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  const thisRound = {};
  for (const [name, open] of Object.entries(systems)) {
    const s = await open();
    const warm = items.slice(0, 200);
    check(await s.run(warm), warm, name); // warm: workers up, task loaded
    const t = performance.now();
    const out = await s.run(items);
    const seconds = (performance.now() - t) / 1000;
    check(out, items, name);
    await s.close();
    thisRound[name] = N / seconds;
    rates[name].push(N / seconds);
  }
  for (const name of Object.keys(systems)) ratios[name].push(thisRound[name] / thisRound[BASE]);
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2));
const range = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
console.log(`${N.toLocaleString('en')} tasks x => x + 1 on ${WORKERS} workers, ${ROUNDS} rounds, ${built ? 'built JS under node' : 'source under tsx'} (Node ${process.version})`);
console.log(`| system | tasks/s, median (min–max) | ÷ ${BASE}, same round |`);
console.log('| --- | ---: | ---: |');
for (const name of Object.keys(systems)) {
  const r = ratios[name];
  console.log(`| ${name} | ${fmt(median(rates[name]))} (${range(rates[name])}) | ${median(r).toFixed(3)}× (${Math.min(...r).toFixed(3)}–${Math.max(...r).toFixed(3)}) |`);
}
