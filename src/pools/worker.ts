/**
 * The worker entry, one for both runtimes: a worker thread (messages on `parentPort`) or a child
 * process (messages on the IPC channel). It loads tasks (inline source or module export), runs them
 * one at a time in arrival order, and answers each with one message; nothing that a task throws,
 * or that escapes it, goes unreported.
 */

import { isMainThread, parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import {
  CLAIMS,
  Claim,
  FnKind,
  Op,
  unknownMessage,
  type BatchMsg,
  type DefMsg,
  type Frame,
  type FromWorker,
  type InitMsg,
  type RunMsg,
  type ToWorker,
  type WorkerBoot,
} from './protocol.ts';
import { loadExport } from './load.ts';
import { serializeError, type SerializedError } from './serialize.ts';
import { transferListOf, type Transferred } from './transfer.ts';
import { startWatchdog } from './worker/watchdog.js';

type Fn = (...args: unknown[]) => unknown;

/** Marks this realm as a pool worker (tests and error messages use it). */
const IN_WORKER = Symbol.for('rxjs-pools.worker');
/** Run tasks back to back for at most this long before letting queued messages (cancels) in. */
const SLICE_MS = 1;

const boot: WorkerBoot = isMainThread ? JSON.parse(process.argv[2] ?? '{}') : workerData;
const claims = boot.claims;
// A process has no transfer: what a task marks with transfer() is copied.
const post: (message: FromWorker, transfer?: readonly TransferListItem[]) => void = parentPort
  ? (message, transfer) => parentPort!.postMessage(message, transfer)
  : (message) => void process.send!(message);
/** Whether `value` survives the channel: structured clone for threads, V8 serialisation for processes. */
const cloneCheck: (value: unknown) => unknown = parentPort ? structuredClone : serialize;

// esbuild (tsx, vitest) wraps named functions in `__name(fn, "name")` when it keeps names; an
// inline task's source may carry such a call, so give it a harmless definition here.
(globalThis as Record<string, unknown>).__name ??= (fn: unknown) => fn;
(globalThis as Record<PropertyKey, unknown>)[IN_WORKER] = true;

interface Loaded {
  fn?: Fn;
  /** Why it could not be loaded: every task using it fails with this. */
  error?: unknown;
  name: string;
  inline: boolean;
}
const fns: Loaded[] = [];
const inbox: (ToWorker | null)[] = [];
let head = 0;
let draining = false;
let initFailed = false;
let exiting = false;

function onFrame(frame: Frame): void {
  for (const message of frame) {
    switch (message[0]) {
      case Op.Cancel: {
        // Drop the task if it has not started (it is still in the inbox), and say so; if it has,
        // say nothing: the pool replaces this worker if it is still running it.
        for (let i = head; i < inbox.length; i++) {
          const queued = inbox[i];
          if (queued && (queued[0] === Op.Run || queued[0] === Op.Batch) && queued[1] === message[1]) {
            inbox[i] = null;
            post([Op.Cancelled, message[1]]);
          }
        }
        break;
      }
      case Op.Exit:
        // Leave by letting the event loop end, so pending I/O (a log line, tsx's write of its
        // compile cache, without which the next worker compiles again) completes; the pool stops
        // a worker that is still alive after a grace period.
        exiting = true;
        inbox.length = head = 0;
        if (parentPort) parentPort.close();
        else process.disconnect();
        return;
      case Op.Def:
      case Op.Init:
      case Op.Run:
      case Op.Batch:
        inbox.push(message);
        break;
      default:
        throw unknownMessage('worker', message);
    }
  }
  if (!draining) void drain();
}

async function drain(): Promise<void> {
  draining = true;
  let sliceStart = performance.now();
  while (head < inbox.length) {
    const message = inbox[head];
    inbox[head++] = null;
    if (message !== null && !initFailed) {
      const pending = handle(message);
      if (pending) await pending;
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      // Let messages in (a Cancel for what comes next): this runs inside a message callback, in
      // the loop's poll phase, so one setImmediate would resume before the next poll; two pass one.
      await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
      sliceStart = performance.now();
    }
  }
  inbox.length = 0;
  head = 0;
  draining = false;
}

function handle(message: ToWorker): void | Promise<void> {
  switch (message[0]) {
    case Op.Def:
      return define(message);
    case Op.Init:
      return initialize(message);
    case Op.Run:
    case Op.Batch:
      // Threads: the pool may have taken this job back (abort, or given to an idle worker).
      if (claims && Atomics.compareExchange(claims, message[4] % CLAIMS, Claim.Free, Claim.Started) !== Claim.Free) return;
      return message[0] === Op.Run ? run(message) : runBatch(message);
    default:
      throw unknownMessage('worker', message);
  }
}

function define(message: DefMsg): void | Promise<void> {
  const [, key, kind, where, name] = message;
  if (kind === FnKind.Inline) {
    fns[key] = compile(where, name);
    return;
  }
  return loadExport(where, name).then(
    (fn) => void (fns[key] = { fn, name, inline: false }),
    (error: unknown) => void (fns[key] = { error, name, inline: false }),
  );
}

/** Rebuilds an inline function from its source: an expression, or a method shorthand `f(x) {…}`. */
function compile(source: string, name: string): Loaded {
  try {
    return { fn: new Function(`return (${source}\n)`)() as Fn, name, inline: true };
  } catch {
    try {
      const holder = new Function(`return ({${source}\n})`)() as Record<string, Fn>;
      const fn = Object.values(holder)[0];
      if (typeof fn === 'function') return { fn, name, inline: true };
    } catch {
      // fall through to the error below
    }
    const error = new SyntaxError(
      `Inline task ${name || '(anonymous)'} could not be rebuilt from its source in the worker; ` +
        `export it from a module and use task(new URL('./tasks.ts', import.meta.url), '${name || 'name'}')`,
    );
    return { error, name, inline: true };
  }
}

async function initialize(message: InitMsg): Promise<void> {
  const [, key, args] = message;
  const loaded = fns[key];
  try {
    if (!loaded?.fn) throw loaded?.error ?? new Error(`initializer ${key} was never defined`);
    await loaded.fn(...args);
  } catch (error) {
    // No task may run without its initializer: drop everything; the pool ends this worker.
    post([Op.InitFailed, serializeError(error)]);
    initFailed = true;
    return;
  }
  post([Op.Ready]);
}

function run(message: RunMsg): void | Promise<void> {
  const [, id, key, args] = message;
  const loaded = fns[key];
  const start = performance.now();
  let value: unknown;
  try {
    if (!loaded?.fn) throw loaded?.error ?? new Error(`task ${key} was never defined`);
    value = loaded.fn(...args);
  } catch (error) {
    return fail(id, loaded, error, start);
  }
  if (isThenable(value)) {
    return Promise.resolve(value).then(
      (v) => reply(id, v, start),
      (error: unknown) => fail(id, loaded, error, start),
    );
  }
  reply(id, value, start);
}

function reply(id: number, value: unknown, start: number): void {
  const ms = performance.now() - start;
  try {
    const moved = transferListOf(value);
    if (moved) post([Op.Ok, id, (value as Transferred).value, ms], moved);
    else post([Op.Ok, id, value, ms]);
  } catch (error) {
    post([Op.Err, id, cloneFailure('The result', error), ms]);
  }
}

function fail(id: number, loaded: Loaded | undefined, error: unknown, start: number): void {
  const ms = performance.now() - start;
  const serialized = serializeError(explain(loaded, error));
  try {
    post([Op.Err, id, serialized, ms]);
  } catch {
    // An own field that structured clone refuses deep inside: send the text of it instead.
    serialized.props = serialized.props && { detail: inspect(serialized.props, { depth: 2 }) };
    serialized.cause = undefined;
    post([Op.Err, id, serialized, ms]);
  }
}

function runBatch(message: BatchMsg): void | Promise<void> {
  const [, id, key, items] = message;
  const batch: Batch = { id, key, items, loaded: fns[key], start: performance.now(), values: new Array(items.length), errors: null };
  return runItems(batch, 0);
}

interface Batch {
  readonly id: number;
  readonly key: number;
  readonly items: readonly unknown[];
  readonly loaded: Loaded | undefined;
  readonly start: number;
  readonly values: unknown[];
  errors: (SerializedError | undefined)[] | null;
}

/** Runs items from `i` on: synchronously while they return plain values (no promise per item). */
function runItems(batch: Batch, i: number): void | Promise<void> {
  const { items, loaded } = batch;
  for (; i < items.length; i++) {
    let value: unknown;
    try {
      if (!loaded?.fn) throw loaded?.error ?? new Error(`task ${batch.key} was never defined`);
      value = loaded.fn(items[i]);
    } catch (error) {
      (batch.errors ??= [])[i] = serializeError(explain(loaded, error));
      continue;
    }
    if (isThenable(value)) {
      const at = i;
      return Promise.resolve(value).then(
        (v) => {
          batch.values[at] = v;
          return runItems(batch, at + 1);
        },
        (error: unknown) => {
          (batch.errors ??= [])[at] = serializeError(explain(loaded, error));
          return runItems(batch, at + 1);
        },
      );
    }
    batch.values[i] = value;
  }
  finishBatch(batch);
}

function finishBatch({ id, values, errors, start }: Batch): void {
  const ms = performance.now() - start;
  let transfer: TransferListItem[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const moved = transferListOf(values[i]);
    if (moved) {
      values[i] = (values[i] as Transferred).value;
      (transfer ??= []).push(...moved);
    }
  }
  try {
    post([Op.BatchDone, id, values, errors, ms], transfer);
  } catch {
    // Some value (or error field) cannot be cloned: find which, and fail only those items.
    for (let i = 0; i < values.length; i++) {
      try {
        cloneCheck(values[i]);
        if (errors?.[i]) cloneCheck(errors[i]);
      } catch (error) {
        values[i] = undefined;
        (errors ??= [])[i] = cloneFailure(`The result of item ${i}`, error);
      }
    }
    post([Op.BatchDone, id, values, errors, ms]);
  }
}

/** Adds the fix to a ReferenceError thrown by an inline function: it used an outer variable. */
function explain(loaded: Loaded | undefined, error: unknown): unknown {
  if (loaded?.inline && error instanceof ReferenceError && !error.message.includes('task(')) {
    error.message +=
      ` — inline task ${loaded.name || '(anonymous)'} was sent to the worker as source text, so it cannot use variables ` +
      `from the scope it was written in; pass them as arguments, or export the function from a module and use ` +
      `task(new URL('./tasks.ts', import.meta.url), '${loaded.name || 'name'}')`;
  }
  return error;
}

function cloneFailure(what: string, error: unknown): SerializedError {
  return {
    name: 'DataCloneError',
    message: `${what} could not be sent back from the worker: ${error instanceof Error ? error.message : String(error)}`,
    stack: undefined,
    base: 'Error',
    props: undefined,
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

process.on('uncaughtException', (error) => {
  // An async throw that no task awaited: report it, then die (the pool replaces this worker and
  // fails the task that was running with WorkerCrashedError, this error as its cause).
  try {
    post([Op.Uncaught, serializeError(error)]);
  } finally {
    process.exit(1);
  }
});

if (parentPort) {
  parentPort.on('message', onFrame);
} else {
  startWatchdog(Number(process.argv[3])); // a child whose parent died exits, even mid-task
  process.on('message', onFrame as (message: unknown) => void);
  // The pool is gone (its process died): nobody will ever read our answers.
  process.on('disconnect', () => exiting || process.exit(0));
}
if (!boot.init) post([Op.Ready]);
