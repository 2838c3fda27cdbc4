import { describe } from '../pools/task.ts';
import { checkOptions, deadlineTimer, distinctPromises, watch, type Outcome } from './watch.ts';

/** When {@link wait} returns (Python's `return_when` constants, as strings). */
export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';

const RETURN_WHEN: readonly ReturnWhen[] = ['FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED'];

/** Options of {@link wait}. */
export interface WaitOptions {
  /**
   * `'FIRST_COMPLETED'`: as soon as any promise settles. `'FIRST_EXCEPTION'`: as soon as any
   * rejects, or when all have settled if none does. `'ALL_COMPLETED'`: when all have settled.
   * @default 'ALL_COMPLETED'
   */
  readonly returnWhen?: ReturnWhen;
  /**
   * Milliseconds to wait at most (Python: seconds). Past it `wait` resolves with what has settled
   * so far; it never rejects (as in Python, where only `as_completed` raises).
   * @default Infinity
   */
  readonly timeout?: number;
}

/** What {@link wait} resolves to (Python's `DoneAndNotDoneFutures`). */
export interface WaitResult<P extends PromiseLike<unknown>> {
  /** The outcome of every promise that settled before `wait` returned, in the order they settled. */
  readonly done: Outcome<P>[];
  /** The promises that had not settled: pass them to `wait` or `asCompleted` again. */
  readonly pending: Set<P>;
}

/**
 * Waits until some or all of `promises` have settled: Python's `concurrent.futures.wait`. Resolves
 * to `{ done, pending }`; never rejects, whatever the promises do.
 *
 * `done` holds outcomes, `{ promise, status: 'fulfilled', value }` or `{ promise, status:
 * 'rejected', reason }` (as `asCompleted` yields them: a JavaScript promise cannot be read
 * synchronously, so `done` carries what each one gave), in the order they settled; `pending` is a
 * Set of the promises still running. A promise given twice counts once. A condition already met
 * (a promise already settled, for `FIRST_COMPLETED`) returns at once. A rejection is an exception
 * whatever its reason: a promise has no separate "cancelled" state, so an `AbortError` from a
 * cancelled task counts too.
 *
 * **Nothing left behind**: when it returns, its timer is cleared and the promises' handlers are
 * switched off.
 *
 * ## Example
 * ```ts
 * let pending = new Set(urls.map((url) => pool.submit(fetchAndParse, [url])));
 * while (pending.size > 0) {
 *   const result = await wait(pending, { returnWhen: 'FIRST_COMPLETED' });
 *   for (const outcome of result.done) console.log(outcome.status);
 *   pending = result.pending;
 * }
 * ```
 *
 * @see asCompleted — each outcome as it settles.
 * @param promises An iterable of promises (or thenables): an array, a Set, `map.keys()`.
 * @param options `returnWhen` and `timeout`; validated now (a bad one throws, not rejects).
 * @returns `{ done, pending }`.
 */
export function wait<P extends PromiseLike<unknown>>(promises: Iterable<P>, options?: WaitOptions): Promise<WaitResult<P>> {
  const { timeout } = checkOptions('wait', options, ['returnWhen', 'timeout']);
  const { returnWhen = 'ALL_COMPLETED' } = options ?? {};
  if (!RETURN_WHEN.includes(returnWhen)) {
    throw new TypeError(`Expected \`returnWhen\` to be 'FIRST_COMPLETED', 'FIRST_EXCEPTION' or 'ALL_COMPLETED', got ${describe(returnWhen)}`);
  }
  const distinct = distinctPromises('wait', promises);
  const deadline = performance.now() + timeout;
  const done: Outcome<P>[] = [];
  const pending = new Set(distinct);
  if (distinct.length === 0) return Promise.resolve({ done, pending });

  return new Promise((resolve) => {
    let finished = false;
    let stop = () => {};
    let clearTimer = () => {};
    const finish = () => {
      if (finished) return;
      finished = true;
      stop();
      clearTimer();
      resolve({ done, pending });
    };
    stop = watch(distinct, (outcome) => {
      if (finished) return;
      pending.delete(outcome.promise);
      done.push(outcome);
      if (pending.size === 0 || returnWhen === 'FIRST_COMPLETED' || (returnWhen === 'FIRST_EXCEPTION' && outcome.status === 'rejected')) finish();
    });
    if (finished) stop(); // a foreign thenable called back during watch, before `stop` was set
    else clearTimer = deadlineTimer(deadline, finish);
  });
}
