/**
 * What travels through Redis, defined once and imported by the pool and the worker host.
 *
 * A BullMQ job is one batch (or one `submit`): its data names the task and carries the arguments;
 * its return value carries the outcome. Arguments and results use `v8.serialize` (the structured
 * clone rules of `ProcessPool`, so a task behaves the same on every pool), in base64 because BullMQ
 * stores data and return values as JSON.
 */

import { deserialize, serialize } from 'node:v8';
import { deserializeError, type SerializedError } from '../pools/serialize.ts';
import { serializeError } from '../pools/worker/errors.js';

/** Bumped when the shape changes: a host refuses jobs of another version instead of guessing. */
export const CODEC_VERSION = 1;

/** How a task is named across machines. */
export type TaskSpec =
  /** A module export: `path` is relative to the code root, with `/` separators. */
  | { readonly k: 'module'; readonly path: string; readonly name: string }
  /** An inline function: its source (run only by hosts started with --allow-inline). */
  | { readonly k: 'inline'; readonly source: string; readonly name: string };

/** The data of one job. */
export interface JobData {
  readonly v: typeof CODEC_VERSION;
  readonly task: TaskSpec;
  /** `'run'`: `fn(...args)`, the payload is the arguments; `'batch'`: `fn(item)` for each item. */
  readonly mode: 'run' | 'batch';
  /** base64 of `v8.serialize(args or items)`. */
  readonly payload: string;
  /** Items in the payload (1 for `'run'`). */
  readonly size: number;
  /** Milliseconds each item may run on the host's local pool; absent: no limit. */
  readonly timeout?: number;
}

/** What a host returns for a job (v8-serialised, base64). */
export type Outcome =
  /** It ran: `value` (run) or `values` + per-item `errors` (batch). */
  | { readonly k: 'ok'; readonly value?: unknown; readonly values?: unknown[]; readonly errors?: (SerializedError | undefined)[]; readonly ms: number; readonly host: string }
  /** It failed as a whole: the task threw (run), or the host could not run it (refused, timed out, crashed). */
  | { readonly k: 'err'; readonly error: SerializedError; readonly ms: number; readonly host: string }
  /** The pool withdrew it while it ran; nobody reads this. */
  | { readonly k: 'cancelled'; readonly host: string };

export function encode(value: unknown): Buffer {
  return serialize(value);
}

export function toBase64(bytes: Buffer): string {
  return bytes.toString('base64');
}

export function decode<T>(base64: string): T {
  return deserialize(Buffer.from(base64, 'base64')) as T;
}

/** Serialises an error for the wire, as the local pools' workers do. */
export const wireError = serializeError;

/** Rebuilds an error from the wire, as the local pools do: the library's classes only for errors it raised. */
export const unwireError = deserializeError;
