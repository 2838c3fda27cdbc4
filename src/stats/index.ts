export { poolStats, type PoolStatsSample, type PoolStatsOptions, type StatsSource } from './poolStats.ts';
