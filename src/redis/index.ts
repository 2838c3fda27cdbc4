/**
 * `rxjs-pools/redis`: the pools across machines, on BullMQ. Needs the optional peer dependencies
 * bullmq (6.x) and ioredis; importing this module without them throws an error that says what to
 * install. Nothing else in rxjs-pools loads them.
 */
export { RedisPool, type HostStats } from './RedisPool.ts';
export { WorkerHost, type WorkerHostOptions, type HostStatus } from './host.ts';
export { validateRedisPoolOptions, REDIS_POOL_DEFAULTS, type RedisPoolOptions } from './options.ts';
export { WorkerLostError } from '../errors.ts';
