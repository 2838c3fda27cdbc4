/**
 * `rxjs-pools/adapters`: the operators over the pools users already have. Each adapter turns a
 * piscina, tinypool, workerpool or threads.js pool into a {@link Pool}, so `mapOnPool` (and
 * `mapSettled`) give it order, bounds, backpressure and cancellation. None of them
 * imports its library: they call the pool object you pass, so the libraries stay optional peers.
 */
export { fromPiscina, type PiscinaLike } from './fromPiscina.ts';
export { fromTinypool, type TinypoolLike } from './fromTinypool.ts';
export { fromWorkerpool, type WorkerpoolLike, type WorkerpoolPromiseLike } from './fromWorkerpool.ts';
export { fromThreadsPool, type ThreadsPoolLike, type ThreadsQueuedTaskLike, type ThreadsCall } from './fromThreadsPool.ts';
export type { Pool } from '../pools/Pool.ts';
