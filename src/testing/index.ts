/**
 * `rxjs-pools/testing`: what a marble test of the operators needs.
 */
export { VirtualPool, type VirtualPoolOptions, type VirtualBatch } from './VirtualPool.ts';
