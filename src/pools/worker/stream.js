// @ts-check
/**
 * Streaming tasks, worker side (the pool side is ../stream.ts). A Stream message runs
 * `fn(...args)`, which gives an async or sync iterable (an async generator function, a generator
 * function, or anything returning an iterable or a promise of one), and sends its values back:
 *
 * - **Credits.** `next()` is called only while the stream holds credit: the Stream message's, plus
 *   each Pull's. Without credit the worker waits (its clock stopped: the time reported is the
 *   task's own). So the task runs at most its credit ahead of its consumer.
 * - **Framing.** Values that come fast travel together: a Yield goes out when the credit is spent,
 *   when it holds MAX_BATCH values, when its values took BATCH_MS to produce, or when the iterator
 *   makes the worker wait for something outside the microtask queue (I/O, a timer): a live source
 *   never waits for a batch to fill.
 * - **The end** is one Ok (done) or Err (the task threw, or a value could not be cloned: the values
 *   before it are sent first), after every Yield. A Close (the consumer left) stops the pulling and
 *   calls the iterator's `return()`, so the task's `finally` runs; then Ok (or Err if it threw).
 *
 * Plain JavaScript, like everything a worker loads.
 */

import { performance } from 'node:perf_hooks';
import { Op } from './wire.js';
import { bufferIndexes, restoreBuffers } from './buffers.js';
import { cloneFailure } from './errors.js';

/**
 * @typedef {import('../protocol.ts').StreamMsg} StreamMsg
 * @typedef {import('../protocol.ts').PullMsg} PullMsg
 * @typedef {import('../protocol.ts').CloseMsg} CloseMsg
 * @typedef {import('../protocol.ts').ToWorker} ToWorker
 * @typedef {import('../protocol.ts').FromWorker} FromWorker
 * @typedef {import('node:worker_threads').TransferListItem} TransferListItem
 */

/**
 * What a stream needs from the worker entry.
 * @typedef {object} StreamHost
 * @property {(message: FromWorker, transfer?: readonly TransferListItem[]) => void} post
 * @property {(key: number) => { fn?: (...args: unknown[]) => unknown, error?: unknown, name: string } | undefined} lookup
 * @property {(id: number, seq: number, loaded: any, error: unknown, start: number) => void} fail Posts Err for a task's error and marks it answered (as for Run).
 * @property {(seq: number) => void} answered Marks the task answered (its claim cell, the running task).
 * @property {(value: unknown) => unknown} cloneCheck Throws if `value` cannot travel.
 * @property {(value: unknown) => readonly TransferListItem[] | undefined} transferListOf
 * @property {boolean} threads A worker thread: Buffers are marked, as structured clone makes them Uint8Arrays (./buffers.js).
 */

/** Values per Yield, at most: past a few hundred a message costs little more per value (and a process fewer syscalls); what grows is the memory a message holds. */
const MAX_BATCH = 1024;
/**
 * A Yield whose values took this long to produce goes out. The clock is read at the batch's 1st,
 * 2nd, 4th, 8th… value: a slow task's value goes out alone, a fast one pays ~10 reads a batch.
 */
const BATCH_MS = 1;
/** Between Yields, let messages in (a Close, a Pull) at least this often. */
const SLICE_MS = 1;

/** One running stream's state: what the pool's Pull and Close messages change. */
class Running {
  /** @param {number} id @param {number} credit */
  constructor(id, credit) {
    this.id = id;
    this.credit = credit;
    this.closed = false;
    /** @type {(() => void) | null} */
    this.wake = null;
  }

  /** @param {number} n */
  grant(n) {
    this.credit += n;
    this.#wakeUp();
  }

  close() {
    this.closed = true;
    this.#wakeUp();
  }

  /** @returns {Promise<void>} resolves at the next Pull or Close */
  waitForCredit() {
    return new Promise((resolve) => (this.wake = resolve));
  }

  #wakeUp() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/**
 * @param {unknown} value
 * @returns {value is PromiseLike<unknown>}
 */
function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (/** @type {any} */ (value).then) === 'function';
}

/** Lets queued messages (a Close) in: two immediates pass one poll phase (see drain() in entry.js). */
function letMessagesIn() {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function kindOf(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return `${Object.prototype.toString.call(value).slice(8, -1)} object`;
  return typeof value;
}

/**
 * @param {StreamHost} host
 */
export function createStreams(host) {
  const { post, lookup, fail, answered, cloneCheck, transferListOf, threads } = host;
  /** @type {Running | null} */
  let current = null;

  /**
   * A Pull or a Close. For the running stream it grants or closes; for one still in the inbox (not
   * started) a Pull adds to its credit and a Close drops it (answered with Cancelled); for one that
   * has ended it is a message that crossed the stream's end, and is ignored.
   * @param {PullMsg | CloseMsg} message
   * @param {(ToWorker | null)[]} inbox
   * @param {number} head
   */
  function control(message, inbox, head) {
    const id = message[1];
    if (current && current.id === id) {
      if (message[0] === Op.Pull) current.grant(message[2]);
      else current.close();
      return;
    }
    for (let i = head; i < inbox.length; i++) {
      const queued = inbox[i];
      if (!queued || queued[0] !== Op.Stream || queued[1] !== id) continue;
      if (message[0] === Op.Pull) {
        const patched = /** @type {unknown[]} */ ([...queued]);
        patched[5] = queued[5] + message[2];
        inbox[i] = /** @type {StreamMsg} */ (/** @type {unknown} */ (patched));
      } else {
        inbox[i] = null;
        post([Op.Cancelled, id]);
      }
      return;
    }
  }

  /**
   * Runs one stream to its end (or its close).
   * @param {StreamMsg} message
   * @returns {Promise<void>}
   */
  async function run(message) {
    const [, id, key, args, seq, credit, buffers] = message;
    restoreBuffers(/** @type {unknown[]} */ (args), buffers);
    const loaded = lookup(key);
    const stream = new Running(id, credit);
    current = stream;
    const start = performance.now();
    /** Milliseconds spent waiting for credit: the consumer's time, not the task's. */
    let waited = 0;
    /** @type {unknown[]} */
    let batch = [];
    /** @type {TransferListItem[] | undefined} */
    let transfer;
    /** When the batch's first value began to be produced, and at what size the clock is read next. */
    let batchStart = start;
    let nextCheck = 1;
    /** Bumped by each flush: an immediate scheduled for an earlier batch does nothing. */
    let generation = 0;
    let lastYield = start;
    /** @type {{ error: unknown } | undefined} */
    let cloneError;

    /** Sends the batch. A value that cannot be cloned ends the stream: the values before it go out first. */
    const flush = () => {
      if (batch.length === 0 || cloneError) return;
      const values = batch;
      const moved = transfer;
      batch = [];
      transfer = undefined;
      generation++;
      batchStart = performance.now();
      nextCheck = 1;
      try {
        const marked = threads ? bufferIndexes(values) : undefined;
        post(marked ? [Op.Yield, id, values, marked] : [Op.Yield, id, values], moved);
      } catch {
        let bad = 0;
        for (; bad < values.length; bad++) {
          try {
            cloneCheck(values[bad]);
          } catch (error) {
            cloneError = { error };
            break;
          }
        }
        if (bad > 0) post([Op.Yield, id, values.slice(0, bad)]);
        cloneError ??= { error: new Error('a value could not be sent') };
        stream.close(); // stop pulling; the iterator is closed below, its finally runs
      }
    };

    /** @param {number} at */
    const flushLater = (at) => {
      setImmediate(() => {
        if (generation === at) flush();
      });
    };

    /** @type {Iterator<unknown> | AsyncIterator<unknown> | undefined} */
    let iterator;
    try {
      if (!loaded?.fn) throw loaded?.error ?? new Error(`task ${key} was never defined`);
      let source = loaded.fn(...args);
      if (isThenable(source)) source = await source;
      iterator = iteratorOf(source, loaded.name);
      for (;;) {
        if (stream.credit === 0 && !stream.closed) {
          flush();
          const since = performance.now();
          while (stream.credit === 0 && !stream.closed) await stream.waitForCredit();
          waited += performance.now() - since;
          lastYield = batchStart = performance.now();
        }
        if (stream.closed) break;
        stream.credit--;
        let step = iterator.next();
        if (isThenable(step)) step = await step;
        if (step.done) break;
        const value = step.value;
        const moved = transferListOf(value);
        if (moved) (transfer ??= []).push(...moved);
        const size = batch.push(moved ? /** @type {{ value: unknown }} */ (value).value : value);
        if (size === 1) flushLater(generation);
        let full = size >= MAX_BATCH || stream.credit === 0;
        if (!full && size >= nextCheck) {
          nextCheck *= 2;
          full = performance.now() - batchStart > BATCH_MS;
        }
        if (full) {
          flush();
          if (performance.now() - lastYield > SLICE_MS) {
            await letMessagesIn();
            lastYield = performance.now();
          }
        }
      }
      if (stream.closed) {
        // The consumer left (or a value could not be sent): what was gathered is nobody's.
        batch = [];
        await iterator.return?.();
      } else {
        flush();
      }
    } catch (error) {
      if (cloneError) {
        // The iterator's return() threw while closing after a clone failure: the clone failure is the news.
      } else {
        if (!stream.closed) flush();
        current = null;
        return fail(id, seq, loaded, error, start + waited);
      }
    }
    current = null;
    const ms = performance.now() - start - waited;
    if (cloneError) {
      post([Op.Err, id, cloneFailure(`A value yielded by task ${loaded?.name || '(anonymous)'}`, cloneError.error), ms]);
    } else {
      post([Op.Ok, id, undefined, ms]);
    }
    answered(seq);
  }

  return { control, run };
}

/**
 * The iterator of what a streaming task returned.
 * @param {unknown} source
 * @param {string} name
 * @returns {Iterator<unknown> | AsyncIterator<unknown>}
 */
function iteratorOf(source, name) {
  const it = /** @type {any} */ (source);
  if (it != null && typeof it[Symbol.asyncIterator] === 'function') return it[Symbol.asyncIterator]();
  if (it != null && typeof it[Symbol.iterator] === 'function') return it[Symbol.iterator]();
  throw new TypeError(
    `Task ${name || '(anonymous)'} returned ${kindOf(source)}, not an iterable: a streaming task is an async generator function, ` +
      'a generator function, or a function returning an (async) iterable',
  );
}
