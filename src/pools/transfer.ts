import type { TransferListItem } from 'node:worker_threads';

/**
 * Marks a task's result whose buffers should move back to the pool rather than be copied. The
 * worker (./worker/entry.js) reads the list under the same registered symbol.
 */
const TRANSFER = Symbol.for('rxjs-pools.transfer');

/** What {@link transfer} returns, as the worker sees it. */
export interface Transferred<T = unknown> {
  readonly value: T;
  readonly [TRANSFER]: readonly TransferListItem[];
}

/**
 * Returns `value` from a task with `list` (ArrayBuffers, MessagePorts) moved to the pool instead of
 * copied: piscina's `move`, comlink's `transfer`. The way in is `submit`'s `transfer` option.
 * In a `ProcessPool` the value is copied (processes share no memory).
 *
 * @example
 * ```ts
 * export function invert(buffer: ArrayBuffer): ArrayBuffer {
 *   const bytes = new Uint8Array(buffer);
 *   for (let i = 0; i < bytes.length; i++) bytes[i] = 255 - bytes[i]!;
 *   return transfer(buffer, [buffer]);
 * }
 * ```
 * @returns A marker typed as `value`, so the task keeps its signature; only the worker unwraps it.
 */
export function transfer<T>(value: T, list: readonly TransferListItem[]): T {
  if (!Array.isArray(list)) throw new TypeError(`Expected the transfer list to be an array, got ${typeof list}`);
  return { value, [TRANSFER]: list } satisfies Transferred<T> as unknown as T;
}
