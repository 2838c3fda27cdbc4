/**
 * `asCompleted` and `wait`: Python's `concurrent.futures.as_completed` and `wait` over any
 * promises (a pool's `submit`, `fetch`, …). No rxjs needed: also exported from `rxjs-pools/pools`.
 */
export { asCompleted, type AsCompletedOptions } from './asCompleted.ts';
export { wait, type WaitOptions, type WaitResult, type ReturnWhen } from './wait.ts';
export type { Outcome } from './watch.ts';
export { WaitTimeoutError } from '../errors.ts';
