// Quick A/B of ours vs piscina on 20k tiny tasks, built dist under node. Usage: node tiny.mjs [rounds]
import { Piscina } from 'piscina';
import { from, lastValueFrom, toArray, range } from 'rxjs';
const ours = await import('/work/main/dist/index.js');
const { ThreadPool, ProcessPool, mapOnThreads, mapOnProcesses, mapOnPool } = ours;
const N = 20000, W = 2;
const items = Array.from({ length: N }, (_, i) => i);
const inc = (x) => x + 1;
const check = (out) => { if (out.length !== N || out[N - 1] !== N) throw new Error('bad ' + out.length); };
async function time(fn) { const t = performance.now(); await fn(); return performance.now() - t; }
const systems = {
  piscina: async () => { const p = new Piscina({ filename: '/work/main/bench/workers/piscina-worker.mjs', maxThreads: W, minThreads: W });
    await Promise.all(items.slice(0, 2000).map((x) => p.run(x, { name: 'inc' })));
    const ms = await time(async () => check(await Promise.all(items.map((x) => p.run(x, { name: 'inc' }))))); await p.destroy(); return ms; },
  'thread-map': async () => { const p = new ThreadPool({ maxWorkers: W }); for await (const _ of p.map(inc, items.slice(0, 2000))); 
    const ms = await time(async () => { const out = []; for await (const y of p.map(inc, items)) out.push(y); check(out); }); await p.shutdown(); return ms; },
  'thread-map-auto': async () => { const p = new ThreadPool({ maxWorkers: W }); for await (const _ of p.map(inc, items.slice(0, 2000))); 
    const ms = await time(async () => { const out = []; for await (const y of p.map(inc, items, { chunksize: 'auto' })) out.push(y); check(out); }); await p.shutdown(); return ms; },
  'mapOnPool-default': async () => { const p = new ThreadPool({ maxWorkers: W }); await lastValueFrom(from(items.slice(0, 2000)).pipe(mapOnPool(p, inc), toArray()));
    const ms = await time(async () => check(await lastValueFrom(from(items).pipe(mapOnPool(p, inc), toArray())))); await p.shutdown(); return ms; },
  'mapOnPool-c64': async () => { const p = new ThreadPool({ maxWorkers: W }); await lastValueFrom(from(items.slice(0, 2000)).pipe(mapOnPool(p, inc), toArray()));
    const ms = await time(async () => check(await lastValueFrom(from(items).pipe(mapOnPool(p, inc, { concurrency: 64 }), toArray())))); await p.shutdown(); return ms; },
  'mapOnPool-auto': async () => { const p = new ThreadPool({ maxWorkers: W }); await lastValueFrom(from(items.slice(0, 2000)).pipe(mapOnPool(p, inc), toArray()));
    const ms = await time(async () => check(await lastValueFrom(from(items).pipe(mapOnPool(p, inc, { chunksize: 'auto' }), toArray())))); await p.shutdown(); return ms; },
  'mapOnPool-256': async () => { const p = new ThreadPool({ maxWorkers: W }); await lastValueFrom(from(items.slice(0, 2000)).pipe(mapOnPool(p, inc), toArray()));
    const ms = await time(async () => check(await lastValueFrom(from(items).pipe(mapOnPool(p, inc, { chunksize: 256 }), toArray())))); await p.shutdown(); return ms; },
  'proc-mapOnPool-default': async () => { const p = new ProcessPool({ maxWorkers: W }); await lastValueFrom(from(items.slice(0, 2000)).pipe(mapOnPool(p, inc), toArray()));
    const ms = await time(async () => check(await lastValueFrom(from(items).pipe(mapOnPool(p, inc), toArray())))); await p.shutdown(); return ms; },
};
const only = process.argv[3]?.split(',');
const rounds = Number(process.argv[2] ?? 3);
const res = {};
for (let r = 0; r < rounds; r++) for (const [name, fn] of Object.entries(systems)) { if (only && !only.includes(name)) continue; (res[name] ??= []).push(await fn()); }
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const base = res.piscina ? med(res.piscina) : undefined;
for (const [name, a] of Object.entries(res)) console.log(name.padEnd(24), `${(N / med(a) * 1000 / 1000).toFixed(1)}k/s`.padStart(10), base ? `${(base / med(a)).toFixed(2)}x piscina` : '');
