// @ts-check
/**
 * The protocol's constants, shared by both sides: plain JavaScript so that a worker started from
 * source compiles nothing. The message types are in ../protocol.ts (pool side, `import type` in
 * the worker).
 */

/** Message tags. A `const enum` would not survive `isolatedModules`, so plain constants. */
export const Op = /** @type {const} */ ({
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
  /** Run a streaming task: `fn(...args)` returns an (async) iterable; yield at most `credit` values (./stream.js). */
  Stream: 7,
  /** A stream's consumer took values: it may yield `credit` more. */
  Pull: 8,
  /** A stream's consumer left: stop pulling, call the iterator's return(), answer (Ok/Err; Cancelled if it never started). */
  Close: 9,
  // worker → pool
  /**
   * The worker is up, has its first frame in hand (tsx registered if that frame defines a
   * TypeScript module) and its initializer (if any) succeeded: the first task's clock starts.
   */
  Ready: 10,
  /** A task returned: its value and how long it ran (ms). */
  Ok: 11,
  /** A task threw: the serialised error and how long it ran (ms). */
  Err: 12,
  /** A batch finished: values, per-item errors (or null) and how long it ran (ms). */
  BatchDone: 13,
  /** The initializer threw: the pool is broken. */
  InitFailed: 14,
  /**
   * An error escaped every task (an uncaught exception or an unhandled rejection): the error, the
   * task whose code threw it where AsyncLocalStorage can tell (its id and name), and whether that
   * task is still running. The worker goes on; the pool decides (see WorkerPool #onEscaped).
   */
  Escaped: 15,
  /** A task withdrawn by Cancel was dropped before it started. */
  Cancelled: 16,
  /** A module definition finished importing (well or not): the task's own clock may start. */
  Loaded: 17,
  /** Values a stream yielded, in order (several per message when they come fast); its end is Ok or Err. */
  Yield: 18,
});

/** How a function travels: an inline function's source text, or a module URL and export name. */
export const FnKind = /** @type {const} */ ({ Inline: 0, Module: 1 });

/** Cells in a worker's claims array: more than a worker ever holds (MAX_DEPTH and its phantoms). */
export const CLAIMS = 256;
/** The states of a claims cell (see WorkerBoot.claims in ../protocol.ts). */
export const Claim = /** @type {const} */ ({ Free: 0, Started: 1, Taken: 2, Done: 3 });

/**
 * Thrown on either side when a message has a tag it does not know: a bug, never ignored.
 * @param {string} side
 * @param {unknown} message
 * @returns {Error}
 */
export function unknownMessage(side, message) {
  return new TypeError(`rxjs-pools ${side} received an unknown message: ${JSON.stringify(message)?.slice(0, 200)}`);
}
