export { mapOnPool } from './mapOnPool.ts';
export { mapOnThreads, type MapOnThreadsOptions } from './mapOnThreads.ts';
export { mapOnProcesses, type MapOnProcessesOptions } from './mapOnProcesses.ts';
export { flatMapOnPool } from './flatMapOnPool.ts';
export { flatMapOnThreads, type FlatMapOnThreadsOptions } from './flatMapOnThreads.ts';
export { flatMapOnProcesses, type FlatMapOnProcessesOptions } from './flatMapOnProcesses.ts';
export { MAP_ON_POOL_OPTIONS, FLAT_MAP_ON_POOL_OPTIONS, type MapOnPoolOptions, type FlatMapOnPoolOptions, type OverflowPolicy } from './options.ts';
