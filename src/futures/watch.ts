/**
 * What `asCompleted` and `wait` share: the outcome type, argument checks, one handler per promise
 * that can be switched off, and a deadline timer that is never left behind.
 */
import { describe } from '../pools/task.ts';

/**
 * What a settled promise gave: a `Promise.allSettled` entry plus the promise itself, so a result
 * can be traced to its input (Python's `futures = {executor.submit(f, x): x …}` idiom, with a Map).
 */
export type Outcome<P extends PromiseLike<unknown>> =
  | { readonly promise: P; readonly status: 'fulfilled'; readonly value: Awaited<P> }
  | { readonly promise: P; readonly status: 'rejected'; readonly reason: unknown };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * The distinct promises of `promises`, in first-seen order (Python's `set(fs)`: a promise given
 * twice is waited for, and reported, once).
 */
export function distinctPromises<P extends PromiseLike<unknown>>(caller: string, promises: Iterable<P>): P[] {
  if (typeof promises === 'string' || promises == null || typeof (promises as Iterable<P>)[Symbol.iterator] !== 'function') {
    const hint = isThenable(promises) ? ': wrap a single promise in an array' : '';
    throw new TypeError(`Expected \`promises\` of ${caller} to be an iterable of promises (an array, a Set, map.keys()), got ${describe(promises)}${hint}`);
  }
  const seen = new Set<P>();
  let index = 0;
  for (const promise of promises) {
    if (!isThenable(promise)) {
      throw new TypeError(`Expected \`promises\` of ${caller} to hold promises (or thenables), got ${describe(promise)} at index ${index}`);
    }
    seen.add(promise);
    index++;
  }
  return [...seen];
}

/** Checks an options object: known keys only, `timeout` a number of milliseconds from 0 (or Infinity). */
export function checkOptions(caller: string, options: unknown, known: readonly string[]): { timeout: number } {
  if (options === undefined) return { timeout: Infinity };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected the options of ${caller} to be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`Unknown ${caller} option \`${key}\`; known options: ${known.join(', ')}`);
  }
  const { timeout = Infinity } = options as { timeout?: unknown };
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new TypeError(`Expected \`timeout\` to be a number of milliseconds from 0 and up (or Infinity), got ${describe(timeout)}`);
  }
  return { timeout };
}

/**
 * Calls `sink` once with each promise's outcome, as it settles. A promise's handler cannot be
 * removed, so the returned `stop` switches them all off instead: after it, a late settlement finds
 * no sink and holds nothing of the caller's state. Each promise's `then` is called directly (not
 * through `Promise.resolve`), so a promise already settled reports in the next microtasks, in
 * input order.
 */
export function watch<P extends PromiseLike<unknown>>(promises: readonly P[], sink: (outcome: Outcome<P>) => void): () => void {
  let current: ((outcome: Outcome<P>) => void) | undefined = sink;
  for (const promise of promises) {
    let reported = false; // a foreign thenable may call back twice, or both ways
    const report = (outcome: Outcome<P>) => {
      if (reported) return;
      reported = true;
      current?.(outcome);
    };
    try {
      promise.then(
        (value) => report({ promise, status: 'fulfilled', value: value as Awaited<P> }),
        (reason: unknown) => report({ promise, status: 'rejected', reason }),
      );
    } catch (reason) {
      // A thenable whose `then` throws is a rejected promise, as `await` would see it.
      queueMicrotask(() => report({ promise, status: 'rejected', reason }));
    }
  }
  return () => {
    current = undefined;
  };
}

/** setTimeout's longest delay: a longer one would fire at once (Node clamps it to 1 ms). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `fn` once `performance.now()` reaches `at` (no timer at all for `at = Infinity`). Always
 * a timer, even when `at` has passed, so microtasks already queued (outcomes of promises settled
 * before the call) run first. Returns a function that clears it.
 */
export function deadlineTimer(at: number, fn: () => void): () => void {
  if (at === Infinity) return () => {};
  let timer: NodeJS.Timeout;
  const arm = () => {
    timer = setTimeout(() => (performance.now() >= at ? fn() : arm()), Math.min(MAX_DELAY, Math.max(0, Math.ceil(at - performance.now()))));
  };
  arm();
  return () => clearTimeout(timer);
}
