export { mapOnPool } from './mapOnPool.ts';
export { mapOnThreads, type MapOnThreadsOptions } from './mapOnThreads.ts';
export { mapOnProcesses, type MapOnProcessesOptions } from './mapOnProcesses.ts';
export { MAP_ON_POOL_OPTIONS, type MapOnPoolOptions, type OverflowPolicy } from './options.ts';
