// @ts-check
/**
 * The worker entry, one for both runtimes: a worker thread (messages on `parentPort`) or a child
 * process (messages on the IPC channel). It loads tasks (inline source or module export), runs them
 * one at a time in arrival order, and answers each with one message; nothing that a task throws,
 * or that escapes it, goes unreported.
 *
 * Plain JavaScript, like everything it imports, so a worker started from TypeScript source (tsx,
 * vitest) compiles nothing: tsx is registered only for a TypeScript task module (./load.js).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { serialize } from 'node:v8';
import { CLAIMS, Claim, FnKind, Op, unknownMessage } from './wire.js';
import { isTypeScript, loadExport, prepareTypeScript } from './load.js';
import { cloneFailure, serializeError } from './errors.js';
import { createStreams } from './stream.js';
import { bufferIndexes, restoreBuffers } from './buffers.js';
import { startWatchdog } from './watchdog.js';

/**
 * @typedef {import('../protocol.ts').BatchMsg} BatchMsg
 * @typedef {import('../protocol.ts').DefMsg} DefMsg
 * @typedef {import('../protocol.ts').Frame} Frame
 * @typedef {import('../protocol.ts').FromWorker} FromWorker
 * @typedef {import('../protocol.ts').InitMsg} InitMsg
 * @typedef {import('../protocol.ts').RunMsg} RunMsg
 * @typedef {import('../protocol.ts').ToWorker} ToWorker
 * @typedef {import('../protocol.ts').WorkerBoot} WorkerBoot
 * @typedef {import('../serialize.ts').SerializedError} SerializedError
 * @typedef {import('node:worker_threads').TransferListItem} TransferListItem
 * @typedef {(...args: unknown[]) => unknown} Fn
 */

/**
 * @typedef {object} Loaded
 * @property {Fn} [fn]
 * @property {unknown} [error] Why it could not be loaded: every task using it fails with this.
 * @property {string} name
 * @property {boolean} inline
 */

/**
 * @typedef {object} Batch
 * @property {number} id
 * @property {number} seq
 * @property {number} key
 * @property {readonly unknown[]} items
 * @property {Loaded | undefined} loaded
 * @property {number} start
 * @property {unknown[]} values
 * @property {(SerializedError | undefined)[] | null} errors
 */

/** Marks this realm as a pool worker (isPoolWorker, tests and error messages use it). */
const IN_WORKER = Symbol.for('rxjs-pools.worker');
/** What transfer() (../transfer.ts) puts on a result whose buffers move rather than copy. */
const TRANSFER = Symbol.for('rxjs-pools.transfer');
/** Run tasks back to back for at most this long before letting queued messages (cancels) in. */
const SLICE_MS = 1;

/** @type {WorkerBoot} */
const boot = isMainThread ? JSON.parse(process.argv[2] ?? '{}') : workerData;
const claims = boot.claims;
const port = parentPort;

/**
 * The task running now, and the one each piece of asynchronous work belongs to: an error that
 * escapes every task is reported with the task whose code threw it (see `escaped`).
 * @typedef {{ readonly id: number; readonly name: string }} Running
 */
/** @type {AsyncLocalStorage<Running>} */
const context = new AsyncLocalStorage();
/** @type {Running | null} */
let current = null;

/**
 * A process's answers can still be queued in its IPC channel (a large answer fills the pipe):
 * `process.exit` in a task must not lose them, so the exit waits until every answer is written,
 * and nothing is posted after it (the task that exited never answers: the pool blames it alone).
 * @type {number | undefined}
 */
let exitCode;
let unsent = 0;
const reallyExit = process.exit.bind(process);
const onSent = () => {
  if (--unsent === 0 && exitCode !== undefined) reallyExit(exitCode);
};
const send = /** @type {NonNullable<typeof process.send>} */ (process.send)?.bind(process);
// A process has no transfer: what a task marks with transfer() is copied.
/** @type {(message: FromWorker, transfer?: readonly TransferListItem[]) => void} */
const post = port
  ? (message, transfer) => port.postMessage(message, transfer)
  : (message) => {
      if (exitCode !== undefined) return;
      unsent++;
      send(message, undefined, undefined, onSent);
    };
if (!port) {
  process.exit = /** @type {typeof process.exit} */ (
    (code) => {
      if (unsent === 0) return reallyExit(code);
      exitCode = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
      return /** @type {never} */ (undefined);
    }
  );
}
/**
 * Whether `value` survives the channel: structured clone for threads, V8 serialisation for processes.
 * @type {(value: unknown) => unknown}
 */
const cloneCheck = port ? structuredClone : serialize;

const globals = /** @type {Record<PropertyKey, unknown>} */ (globalThis);
// esbuild (tsx, vitest) wraps named functions in `__name(fn, "name")` when it keeps names; an
// inline task's source may carry such a call, so give it a harmless definition here.
globals.__name ??= (/** @type {unknown} */ fn) => fn;
globals[IN_WORKER] = true;

/** @type {Loaded[]} */
const fns = [];
/** @type {(ToWorker | null)[]} */
const inbox = [];
let head = 0;
let draining = false;
let initFailed = false;
let exiting = false;

/** @param {Frame} frame */
function onFrame(frame) {
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
            break; // ids are unique
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
        if (port) port.close();
        else process.disconnect();
        return;
      case Op.Pull:
      case Op.Close:
        streams.control(message, inbox, head);
        break;
      case Op.Def:
      case Op.Init:
      case Op.Run:
      case Op.Batch:
      case Op.Stream:
        inbox.push(message);
        break;
      default:
        throw unknownMessage('worker', message);
    }
  }
  if (!draining) void drain();
}

/** @returns {Promise<void>} */
async function drain() {
  draining = true;
  let sliceStart = performance.now();
  while (head < inbox.length && exitCode === undefined) {
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

/**
 * @param {ToWorker} message
 * @returns {void | Promise<void>}
 */
function handle(message) {
  switch (message[0]) {
    case Op.Def:
      return define(message);
    case Op.Init:
      return initialize(message);
    case Op.Run:
    case Op.Batch:
    case Op.Stream:
      // Threads: the pool may have taken this job back (abort, or given to an idle worker).
      if (claims && Atomics.compareExchange(claims, message[4] % CLAIMS, Claim.Free, Claim.Started) !== Claim.Free) return;
      if (message[0] === Op.Stream) return context.run(begin(message[1], fns[message[2]]), streams.run, message);
      return message[0] === Op.Run ? run(message) : runBatch(message);
    default:
      throw unknownMessage('worker', message);
  }
}

/**
 * @param {DefMsg} message
 * @returns {void | Promise<void>}
 */
function define(message) {
  const [, key, kind, where, name] = message;
  if (kind === FnKind.Inline) {
    fns[key] = compile(where, name);
    return;
  }
  return loadExport(where, name).then(
    (fn) => {
      fns[key] = { fn, name, inline: false };
      post([Op.Loaded, key]);
    },
    (/** @type {unknown} */ error) => {
      fns[key] = { error, name, inline: false };
      post([Op.Loaded, key]);
    },
  );
}

/**
 * Rebuilds an inline function from its source: an expression, or a method shorthand `f(x) {…}`.
 * @param {string} source
 * @param {string} name
 * @returns {Loaded}
 */
function compile(source, name) {
  try {
    return { fn: /** @type {Fn} */ (new Function(`return (${source}\n)`)()), name, inline: true };
  } catch {
    try {
      const holder = /** @type {Record<string, Fn>} */ (new Function(`return ({${source}\n})`)());
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

/**
 * @param {InitMsg} message
 * @returns {Promise<void>}
 */
async function initialize(message) {
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

/**
 * @param {RunMsg} message
 * @returns {void | Promise<void>}
 */
function run(message) {
  const [, id, key, args, seq, buffers] = message;
  restoreBuffers(/** @type {unknown[]} */ (args), buffers);
  const loaded = fns[key];
  const start = performance.now();
  const task = begin(id, loaded);
  /** @type {unknown} */
  let value;
  try {
    if (!loaded?.fn) throw loaded?.error ?? new Error(`task ${key} was never defined`);
    value = context.run(task, loaded.fn, ...args);
  } catch (error) {
    return fail(id, seq, loaded, error, start);
  }
  if (isThenable(value)) {
    return Promise.resolve(value).then(
      (v) => reply(id, seq, v, start),
      (/** @type {unknown} */ error) => fail(id, seq, loaded, error, start),
    );
  }
  reply(id, seq, value, start);
}

/**
 * Marks a task as the one running (for `escaped`).
 * @param {number} id
 * @param {Loaded | undefined} loaded
 * @returns {Running}
 */
function begin(id, loaded) {
  current = { id, name: loaded?.name || '(anonymous)' };
  return current;
}

/**
 * A task has answered: it is no longer the one running, and (threads) its claim cell says so, so
 * the pool, withdrawing it meanwhile, waits for the answer instead of stopping this worker.
 * @param {number} seq
 */
function answered(seq) {
  current = null;
  if (claims) Atomics.store(claims, seq % CLAIMS, Claim.Done);
}

/**
 * @param {number} id
 * @param {number} seq
 * @param {unknown} value
 * @param {number} start
 */
function reply(id, seq, value, start) {
  const ms = performance.now() - start;
  try {
    const moved = transferListOf(value);
    if (moved) post([Op.Ok, id, /** @type {{ value: unknown }} */ (value).value, ms], moved);
    else if (port && Buffer.isBuffer(value)) post([Op.Ok, id, value, ms, true]);
    else post([Op.Ok, id, value, ms]);
  } catch (error) {
    post([Op.Err, id, cloneFailure('The result', error), ms]);
  }
  answered(seq);
}

/**
 * @param {number} id
 * @param {number} seq
 * @param {Loaded | undefined} loaded
 * @param {unknown} error
 * @param {number} start
 */
function fail(id, seq, loaded, error, start) {
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
  answered(seq);
}

/**
 * @param {BatchMsg} message
 * @returns {void | Promise<void>}
 */
function runBatch(message) {
  const [, id, key, items, seq, buffers] = message;
  restoreBuffers(/** @type {unknown[]} */ (items), buffers);
  const loaded = fns[key];
  /** @type {Batch} */
  const batch = { id, seq, key, items, loaded, start: performance.now(), values: new Array(items.length), errors: null };
  return context.run(begin(id, loaded), runItems, batch, 0);
}

/**
 * Runs items from `i` on: synchronously while they return plain values (no promise per item).
 * @param {Batch} batch
 * @param {number} i
 * @returns {void | Promise<void>}
 */
function runItems(batch, i) {
  const { items, loaded } = batch;
  for (; i < items.length; i++) {
    /** @type {unknown} */
    let value;
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
        (/** @type {unknown} */ error) => {
          (batch.errors ??= [])[at] = serializeError(explain(loaded, error));
          return runItems(batch, at + 1);
        },
      );
    }
    batch.values[i] = value;
  }
  finishBatch(batch);
}

/** @param {Batch} batch */
function finishBatch({ id, seq, values, errors, start }) {
  const ms = performance.now() - start;
  /** @type {TransferListItem[] | undefined} */
  let transfer;
  for (let i = 0; i < values.length; i++) {
    const moved = transferListOf(values[i]);
    if (moved) {
      values[i] = /** @type {{ value: unknown }} */ (values[i]).value;
      (transfer ??= []).push(...moved);
    }
  }
  const buffers = port ? bufferIndexes(values) : undefined;
  try {
    post(buffers ? [Op.BatchDone, id, values, errors, ms, buffers] : [Op.BatchDone, id, values, errors, ms], transfer);
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
    post(buffers ? [Op.BatchDone, id, values, errors, ms, buffers] : [Op.BatchDone, id, values, errors, ms]);
  }
  answered(seq);
}

/**
 * The transfer list of a value made by transfer() (../transfer.ts), or undefined for any other.
 * @param {unknown} value
 * @returns {readonly TransferListItem[] | undefined}
 */
function transferListOf(value) {
  return typeof value === 'object' && value !== null
    ? /** @type {{ [TRANSFER]?: readonly TransferListItem[] }} */ (value)[TRANSFER]
    : undefined;
}

/**
 * Adds the fix to a ReferenceError thrown by an inline function: it used an outer variable.
 * @param {Loaded | undefined} loaded
 * @param {unknown} error
 * @returns {unknown}
 */
function explain(loaded, error) {
  if (loaded?.inline && error instanceof ReferenceError && !error.message.includes('task(')) {
    error.message +=
      ` — inline task ${loaded.name || '(anonymous)'} was sent to the worker as source text, so it cannot use variables ` +
      `from the scope it was written in; pass them as arguments, or export the function from a module and use ` +
      `task(new URL('./tasks.ts', import.meta.url), '${loaded.name || 'name'}')`;
  }
  return error;
}

/** Streaming tasks (./stream.js): Stream runs one; Pull and Close reach it (or it, still in the inbox). */
const streams = createStreams({ post, lookup: (key) => fns[key], fail, answered, cloneCheck, transferListOf, threads: port !== null });

/**
 * @param {unknown} value
 * @returns {value is PromiseLike<unknown>}
 */
function isThenable(value) {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (/** @type {PromiseLike<unknown>} */ (value)).then === 'function'
  );
}

/**
 * An error that escaped every task: an uncaught exception (a throw in a timer callback) or an
 * unhandled rejection. It is reported with the task whose code threw it where AsyncLocalStorage
 * can tell, and whether that task is still running; the worker goes on. The pool fails that task
 * if it is still running (its worker is replaced: its promise may never settle), and otherwise
 * reports the error and retires this worker once it is idle, so no other task is blamed.
 * @param {unknown} error
 */
function escaped(error) {
  const task = context.getStore() ?? null;
  post([Op.Escaped, serializeError(error), task, task !== null && task === current]);
}
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

/**
 * Frames that arrived before the worker announced itself (see start), in order; null after.
 * @type {Frame[] | null}
 */
let held = [];

/** @param {Frame} frame */
function receive(frame) {
  if (!held) return onFrame(frame);
  held.push(frame);
  if (held.length === 1) void start(frame);
}

/**
 * Announces the worker (Ready) once its first frame is in hand. Ready starts the clock of the
 * first task (`taskTimeout`), so when that frame defines a TypeScript module the worker registers
 * tsx first (0.3–0.8 s here): the compiler's start-up is the worker's, not the task's, as when
 * every worker loaded tsx at boot. Only the registration comes first; the module itself is
 * imported after Ready, like any task module. The pool sends every new worker a frame at once
 * (its first task, or its initializer).
 * @param {Frame} first
 */
async function start(first) {
  if (first.some((m) => m[0] === Op.Def && m[2] === FnKind.Module && isTypeScript(m[3]))) {
    // A failure is the Def's to report, with its task (load.js gives the same error again).
    await prepareTypeScript().catch(() => {});
  }
  // With an initializer, Ready follows it (see initialize).
  if (!boot.init) post([Op.Ready]);
  const frames = /** @type {Frame[]} */ (held);
  held = null;
  for (const frame of frames) onFrame(frame);
}

if (port) {
  port.on('message', receive);
} else {
  // Parent-death detection for a child stuck in synchronous code (./watchdog.js).
  startWatchdog(Number(process.argv[3]));
  process.on('message', /** @type {(message: unknown) => void} */ (receive));
  // The pool is gone (its process died): nobody will ever read our answers.
  process.on('disconnect', () => exiting || process.exit(0));
}
