/**
 * The wire protocol between a pool and its workers, defined once and imported (as types) by both
 * sides. Messages are small tuples tagged by their first element: tuples clone faster than objects
 * and this path runs once per task.
 *
 * The pool sends *frames*: arrays of messages gathered in one tick, so a burst of tasks costs one
 * postMessage per worker instead of one per task. A worker answers each task with one message as
 * soon as it is done (never held back), so when a worker dies the pool knows exactly which tasks
 * had finished and which one was running.
 */

import type { SerializedError } from './serialize.ts';

/** Message tags. A `const enum` would not survive `isolatedModules`, so plain constants. */
export const Op = {
  // pool → worker
  /** Define function `key`: an inline function's source, or a module export. */
  Def: 1,
  /** Run the initializer (a defined function) once, before any task. */
  Init: 2,
  /** Run one task: `fn(...args)`. */
  Run: 3,
  /** Run a batch: `fn(item)` for each item, one reply for the whole batch. */
  Batch: 4,
  /** Drop a task that was sent but has not started (answered with Cancelled if it was dropped). */
  Cancel: 5,
  /** Exit now (the worker is idle: recycled, idle too long, or the pool shut down). */
  Exit: 6,
  // worker → pool
  /** The worker is up and its initializer (if any) succeeded. */
  Ready: 10,
  /** A task returned: its value and how long it ran (ms). */
  Ok: 11,
  /** A task threw: the serialised error and how long it ran (ms). */
  Err: 12,
  /** A batch finished: values, per-item errors (or null) and how long it ran (ms). */
  BatchDone: 13,
  /** The initializer threw: the pool is broken. */
  InitFailed: 14,
  /** Something escaped every task (an uncaught async throw): the worker exits right after. */
  Uncaught: 15,
  /** A task withdrawn by Cancel was dropped before it started. */
  Cancelled: 16,
} as const;

/** How an inline function travels: its source text. */
export const FnKind = { Inline: 0, Module: 1 } as const;

export type DefMsg = readonly [op: typeof Op.Def, key: number, kind: typeof FnKind.Inline, source: string, name: string]
  | readonly [op: typeof Op.Def, key: number, kind: typeof FnKind.Module, url: string, name: string];
export type InitMsg = readonly [op: typeof Op.Init, key: number, args: readonly unknown[]];
/** `seq` numbers the jobs sent to one worker: `seq % CLAIMS` is the job's cell in the claims array. */
export type RunMsg = readonly [op: typeof Op.Run, id: number, key: number, args: readonly unknown[], seq: number];
export type BatchMsg = readonly [op: typeof Op.Batch, id: number, key: number, items: readonly unknown[], seq: number];
export type CancelMsg = readonly [op: typeof Op.Cancel, id: number];
export type ExitMsg = readonly [op: typeof Op.Exit];

/** Everything a pool sends to a worker. */
export type ToWorker = DefMsg | InitMsg | RunMsg | BatchMsg | CancelMsg | ExitMsg;
/** What a pool posts: the messages gathered in one tick. */
export type Frame = ToWorker[];

export type ReadyMsg = readonly [op: typeof Op.Ready];
export type OkMsg = readonly [op: typeof Op.Ok, id: number, value: unknown, ms: number];
export type ErrMsg = readonly [op: typeof Op.Err, id: number, error: SerializedError, ms: number];
export type BatchDoneMsg = readonly [
  op: typeof Op.BatchDone,
  id: number,
  values: unknown[],
  errors: (SerializedError | undefined)[] | null,
  ms: number,
];
export type InitFailedMsg = readonly [op: typeof Op.InitFailed, error: SerializedError];
export type UncaughtMsg = readonly [op: typeof Op.Uncaught, error: SerializedError];
export type CancelledMsg = readonly [op: typeof Op.Cancelled, id: number];

/** Everything a worker sends to its pool, one message per post. */
export type FromWorker = ReadyMsg | OkMsg | ErrMsg | BatchDoneMsg | InitFailedMsg | UncaughtMsg | CancelledMsg;

/** What the pool hands a new worker (as workerData for threads, argv for processes). */
export interface WorkerBoot {
  /** URL of the worker module (the bootstrap imports it after registering tsx). */
  readonly entry: string;
  /** Whether an Init message comes first (Ready is sent after it). */
  readonly init: boolean;
  /**
   * Threads only: a cell per job sent (`seq % CLAIMS`), shared with the pool. Before starting a
   * job the worker claims its cell (0 → STARTED); the pool takes back a job that has not started
   * by claiming it first (0 → TAKEN). Whoever wins decides, so the pool knows without asking
   * whether a job it withdraws (abort, steal) will run. Processes share no memory: they answer
   * Cancel messages instead.
   */
  readonly claims?: Int32Array;
}

/** Cells in a worker's claims array: more than a worker ever holds (MAX_DEPTH and its phantoms). */
export const CLAIMS = 256;
export const Claim = { Free: 0, Started: 1, Taken: 2 } as const;

/** Thrown on either side when a message has a tag it does not know: a bug, never ignored. */
export function unknownMessage(side: string, message: unknown): Error {
  return new TypeError(`rxjs-pools ${side} received an unknown message: ${JSON.stringify(message)?.slice(0, 200)}`);
}
