/** The tests' redis-server: scripts/redis-server.ts (shared with the cluster demo and the bench). */
export { freePort, startRedis, stopAllRedis, type RedisServer, type RedisServerOptions } from '../../scripts/redis-server.ts';
