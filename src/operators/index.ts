export { mapOnPool } from './mapOnPool.ts';
export { MAP_ON_POOL_OPTIONS, type MapOnPoolOptions, type OverflowPolicy } from './options.ts';
