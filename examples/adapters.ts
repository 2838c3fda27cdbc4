import { Piscina } from 'piscina';
import { from, lastValueFrom, toArray } from 'rxjs';
// @ts-expect-error threads' types do not resolve under moduleResolution NodeNext (no "types" in its exports map)
import { Pool, spawn, Worker } from 'threads';
import { mapOnPool, ThreadPool, task, type Pool as AnyPool } from 'rxjs-pools';
import { fromPiscina, fromThreadsPool } from 'rxjs-pools/adapters';

// One reference to the worker function, whichever pool runs it.
const hash = task<(word: string) => string>(new URL('./adapters-tasks.mjs', import.meta.url), 'hash');
const words = ['stressed', 'drawer', 'level', 'rotator', 'deified', 'repaid'];
const hashes = (pool: AnyPool) => lastValueFrom(from(words).pipe(mapOnPool(pool, hash), toArray())); // in order, ≤ maxWorkers in flight

// Already on threads.js: keep the pool and its workers (they expose({ hash })).
const threadsPool = Pool(() => spawn(new Worker('./adapters-threads-worker.mjs')), 2);
console.log('threads.js', await hashes(fromThreadsPool(threadsPool)));
await threadsPool.terminate();

// Or on piscina: the same operator, the same task.
const piscina = new Piscina({ filename: new URL('./adapters-tasks.mjs', import.meta.url).href, maxThreads: 2 });
console.log('piscina   ', await hashes(fromPiscina(piscina)));
await piscina.destroy();

// Moving over: the same reference on a ThreadPool; no library, no worker file to keep.
await using pool = new ThreadPool({ maxWorkers: 2 });
console.log('ThreadPool', await hashes(pool));
