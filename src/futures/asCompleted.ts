import { WaitTimeoutError } from '../errors.ts';
import { checkOptions, deadlineTimer, distinctPromises, watch, type Outcome } from './watch.ts';

/** Options of {@link asCompleted}. */
export interface AsCompletedOptions {
  /**
   * Milliseconds from the call to `asCompleted` (Python: seconds from the call to `as_completed`).
   * Past it, asking for the next outcome when none has arrived and some promise is still pending
   * throws {@link WaitTimeoutError}, and the iteration ends. Outcomes that arrived in time are
   * still yielded first.
   * @default Infinity
   */
  readonly timeout?: number;
}

interface Waiter<P extends PromiseLike<unknown>> {
  resolve(result: IteratorResult<Outcome<P>, undefined>): void;
  reject(error: unknown): void;
}

/**
 * Yields each promise's outcome as it settles: Python's `concurrent.futures.as_completed`.
 *
 * Each outcome is `{ promise, status: 'fulfilled', value }` or `{ promise, status: 'rejected',
 * reason }` (a `Promise.allSettled` entry plus the promise, so a rejection never ends the loop and a
 * result can be traced to its input). Promises already settled come first, in input order; a
 * promise given twice is reported once. Handlers are attached at the call, so a rejection is
 * handled even before the loop starts (no `unhandledRejection`).
 *
 * **Timeout.** With `timeout`, a `next()` that would have to wait past `timeout` ms after the call
 * throws {@link WaitTimeoutError} (its `pending` holds the promises still running; nothing is
 * cancelled) and the iteration ends. Outcomes that arrived in time are yielded first.
 *
 * **Nothing left behind.** A timer exists only while a `next()` waits and a deadline is set;
 * leaving the loop (`break`, `return`, a throw), the timeout and the last outcome all clear it and
 * switch off the promises' handlers, so a promise that settles later reaches nothing.
 *
 * ```text
 * promises   a: ---1|   b: -2|   c: -----X|
 * asCompleted([a, b, c])
 * yields     -b--a--c|    (b fulfilled 2, a fulfilled 1, c rejected X)
 * ```
 *
 * ## Example
 * ```ts
 * await using pool = new ThreadPool({ maxWorkers: 3 });
 * const inputs = new Map([1, 2, 3].map((n) => [pool.submit(slowSquare, [n]), n]));
 * for await (const done of asCompleted(inputs.keys(), { timeout: 5000 })) {
 *   const n = inputs.get(done.promise);
 *   console.log(done.status === 'fulfilled' ? `${n}² = ${done.value}` : `${n} failed: ${done.reason}`);
 * }
 * ```
 *
 * @see wait — the same promises as `{ done, pending }`, returning when a condition is met.
 * @param promises An iterable of promises (or thenables): an array, a Set, `map.keys()`.
 * @param options `timeout`; validated now.
 * @returns An async iterator of outcomes, in the order the promises settle.
 */
export function asCompleted<P extends PromiseLike<unknown>>(promises: Iterable<P>, options?: AsCompletedOptions): AsyncIterableIterator<Outcome<P>> {
  const { timeout } = checkOptions('asCompleted', options, ['timeout']);
  const distinct = distinctPromises('asCompleted', promises);
  const deadline = performance.now() + timeout;
  /** Outcomes that arrived before anyone asked for them. */
  const arrived: Outcome<P>[] = [];
  const pending = new Set(distinct);
  /** `next()` calls waiting for an outcome, oldest first. */
  const waiters: Waiter<P>[] = [];
  let closed = false;
  let clearTimer: (() => void) | undefined;
  /** Switches the promises' handlers off (set once they are attached). */
  let stop = () => {};

  const close = () => {
    if (closed) return;
    closed = true;
    stop();
    clearTimer?.();
    clearTimer = undefined;
    arrived.length = 0;
    pending.clear();
    for (const waiter of waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
  };

  const onDeadline = () => {
    clearTimer = undefined;
    const first = waiters.shift();
    if (first === undefined) return;
    const error = new WaitTimeoutError(
      `asCompleted: ${pending.size} (of ${distinct.length}) promises unfinished after ${timeout} ms`,
      timeout,
      new Set(pending),
    );
    close();
    first.reject(error);
  };

  stop = watch(distinct, (outcome) => {
    if (closed) return; // a foreign thenable that called back during the call, after a close
    pending.delete(outcome.promise);
    const waiter = waiters.shift();
    if (waiter === undefined) arrived.push(outcome);
    else waiter.resolve({ value: outcome, done: false });
    if (pending.size === 0) {
      // Every promise settled: the waiters beyond what arrived will never get one.
      if (waiters.length > 0) close();
      else stop();
    }
    if (waiters.length === 0) {
      clearTimer?.();
      clearTimer = undefined;
    }
  });
  if (closed) stop(); // a foreign thenable called back during watch, before `stop` was set

  const iterator: AsyncIterableIterator<Outcome<P>> = {
    next() {
      const outcome = arrived.shift();
      if (outcome !== undefined) return Promise.resolve({ value: outcome, done: false });
      if (closed || pending.size === 0) {
        close();
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        clearTimer ??= deadlineTimer(deadline, onDeadline);
      });
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
