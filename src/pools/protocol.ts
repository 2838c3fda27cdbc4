/**
 * The wire protocol between a pool and its workers, defined once and imported (as types) by both
 * sides. Its constants live in ./worker/wire.js, plain JavaScript that a worker loads as is.
 * Messages are small tuples tagged by their first element: tuples clone faster than objects and
 * this path runs once per task.
 *
 * The pool sends *frames*: arrays of messages gathered in one tick, so a burst of tasks costs one
 * postMessage per worker instead of one per task. A worker answers each task with one message as
 * soon as it is done (never held back), so when a worker dies the pool knows exactly which tasks
 * had finished and which one was running.
 */

import type { SerializedError } from './serialize.ts';
import { Op, type FnKind } from './worker/wire.js';

export { CLAIMS, Claim, FnKind, Op, unknownMessage } from './worker/wire.js';

export type DefMsg = readonly [op: typeof Op.Def, key: number, kind: typeof FnKind.Inline, source: string, name: string]
  | readonly [op: typeof Op.Def, key: number, kind: typeof FnKind.Module, url: string, name: string];
export type InitMsg = readonly [op: typeof Op.Init, key: number, args: readonly unknown[]];
/**
 * `seq` numbers the jobs sent to one worker: `seq % CLAIMS` is the job's cell in the claims array.
 * `buffers` (threads only): which arguments or items were Buffers, which structured clone delivers
 * as plain Uint8Arrays; the worker makes them Buffers again, as a process receives them.
 */
export type RunMsg = readonly [op: typeof Op.Run, id: number, key: number, args: readonly unknown[], seq: number, buffers?: readonly number[]];
export type BatchMsg = readonly [op: typeof Op.Batch, id: number, key: number, items: readonly unknown[], seq: number, buffers?: readonly number[]];
export type CancelMsg = readonly [op: typeof Op.Cancel, id: number];
export type ExitMsg = readonly [op: typeof Op.Exit];
/**
 * A streaming task (./stream.ts): `fn(...args)` gives an (async) iterable whose values the worker
 * sends back in Yield messages, never more in all than the credits granted: `credit` now, and each
 * Pull's later. It ends with Ok (the iterable is done, or closed by Close) or Err, like a Run.
 */
export type StreamMsg = readonly [op: typeof Op.Stream, id: number, key: number, args: readonly unknown[], seq: number, credit: number, buffers?: readonly number[]];
export type PullMsg = readonly [op: typeof Op.Pull, id: number, credit: number];
export type CloseMsg = readonly [op: typeof Op.Close, id: number];

/** Everything a pool sends to a worker. */
export type ToWorker = DefMsg | InitMsg | RunMsg | BatchMsg | CancelMsg | ExitMsg | StreamMsg | PullMsg | CloseMsg;
/** What a pool posts: the messages gathered in one tick. */
export type Frame = ToWorker[];

export type ReadyMsg = readonly [op: typeof Op.Ready];
/** `buffer` / `buffers` (threads only): the value, or which values, were Buffers (see RunMsg). */
export type OkMsg = readonly [op: typeof Op.Ok, id: number, value: unknown, ms: number, buffer?: true];
export type ErrMsg = readonly [op: typeof Op.Err, id: number, error: SerializedError, ms: number];
export type BatchDoneMsg = readonly [
  op: typeof Op.BatchDone,
  id: number,
  values: unknown[],
  errors: (SerializedError | undefined)[] | null,
  ms: number,
  buffers?: readonly number[],
];
export type InitFailedMsg = readonly [op: typeof Op.InitFailed, error: SerializedError];
export type EscapedMsg = readonly [op: typeof Op.Escaped, error: SerializedError, task: { readonly id: number; readonly name: string } | null, running: boolean];
export type LoadedMsg = readonly [op: typeof Op.Loaded, key: number];
export type CancelledMsg = readonly [op: typeof Op.Cancelled, id: number];
/** `buffers` (threads only): which values were Buffers (see RunMsg). */
export type YieldMsg = readonly [op: typeof Op.Yield, id: number, values: unknown[], buffers?: readonly number[]];

/** Everything a worker sends to its pool, one message per post. */
export type FromWorker = ReadyMsg | OkMsg | ErrMsg | BatchDoneMsg | InitFailedMsg | EscapedMsg | CancelledMsg | LoadedMsg | YieldMsg;

/** The messages that carry a task (a job's arguments or items). */
export function carriesTask(message: ToWorker): message is RunMsg | BatchMsg | StreamMsg {
  return message[0] === Op.Run || message[0] === Op.Batch || message[0] === Op.Stream;
}

/** What the pool hands a new worker (as workerData for threads, argv for processes). */
export interface WorkerBoot {
  /** URL of the worker entry (./worker/entry.js), which the transports start directly. */
  readonly entry: string;
  /** Whether an Init message comes first (Ready is sent after it). */
  readonly init: boolean;
  /**
   * Threads only: a cell per job sent (`seq % CLAIMS`), shared with the pool. Before starting a
   * job the worker claims its cell (Free → Started), and marks it Done once it has answered; the
   * pool takes back a job that has not started by claiming it first (Free → Taken). Whoever wins
   * decides, so the pool knows without asking
   * whether a job it withdraws (abort, steal) will run. Processes share no memory: they answer
   * Cancel messages instead.
   */
  readonly claims?: Int32Array;
}
