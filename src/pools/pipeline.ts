/**
 * Pipelining and batching rules, in one place: how much work a worker may hold, when tasks behind a
 * slow one may be taken back, and how a pool would like to be fed (the `Batching` hint behind the
 * operators' default `concurrency` and `chunksize: 'auto'`). Every rule works from a function's
 * measured time per item; until it is measured, a worker holds one message and batches hold one item.
 */

import type { Batching } from './Pool.ts';
import type { Definition } from './definitions.ts';

/** Keep about this much measured work queued on each worker … */
export const PIPELINE_MS = 2;
/** … but never more than this many messages. */
export const MAX_DEPTH = 64;
/** A worker holding more messages than this can wait a turn of the event loop for more (see Outbox). */
export const FLUSH_LATER_AT = 8;
/** `chunksize: 'auto'`: about this much work per message … */
export const AUTO_BATCH_MS = 1;
/** … in at most this many items. */
export const MAX_AUTO_CHUNK = 4096;

/** Folds a worker's measurement of one message into the function's time per item. */
export function measure(def: Definition, ms: number, items: number): void {
  const perItem = ms / Math.max(1, items);
  def.itemMs = def.itemMs === undefined ? perItem : def.itemMs * 0.8 + perItem * 0.2;
}

/** How many messages of `items` items of `def` a worker may hold: one until measured, more the faster they are. */
export function depthFor(def: Definition, items: number): number {
  if (def.itemMs === undefined) return 1;
  return Math.max(1, Math.min(MAX_DEPTH, Math.floor(PIPELINE_MS / (def.itemMs * items))));
}

/** How long the first message of a pipeline may run before the ones behind it may be taken back. */
export function stallMs(def: Definition, items: number): number {
  return Math.max(1, 4 * (def.itemMs ?? 0) * items);
}

/** The batch size `chunksize: 'auto'` uses for `def`: about AUTO_BATCH_MS of work, 1 until measured. */
export function autoChunk(def: Definition): number {
  if (def.itemMs === undefined) return 1;
  return Math.max(1, Math.min(MAX_AUTO_CHUNK, Math.floor(AUTO_BATCH_MS / Math.max(def.itemMs, 1e-6))));
}

/**
 * The feeding that keeps `maxWorkers` workers busy with `def`: each worker's pipeline full (its
 * depth for that batch size) plus one batch each waiting in the pool's queue, so a worker that
 * answers finds its next batch without a round trip to the caller. Slow or unmeasured tasks get
 * `2 × maxWorkers` (at most `maxWorkers` run; the rest wait in the queue).
 */
export function batchingFor(def: Definition, maxWorkers: number, chunksize?: number): Batching {
  const chunk = chunksize ?? autoChunk(def);
  return { concurrency: maxWorkers * (depthFor(def, chunk) + 1), chunksize: chunk };
}
