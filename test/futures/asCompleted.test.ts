/**
 * asCompleted: Python's as_completed over promises. Promises are settled by hand (deferreds), time
 * is faked where a deadline matters, and real timers are counted where a leak would show.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { asCompleted, WaitTimeoutError, type Outcome } from '../../src/pools/index.ts';
import { activeTimers, deferred, flushMicrotasks } from './helpers.ts';

async function collect<P extends PromiseLike<unknown>>(iterable: AsyncIterable<Outcome<P>>): Promise<Outcome<P>[]> {
  const out: Outcome<P>[] = [];
  for await (const outcome of iterable) out.push(outcome);
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('asCompleted: what it yields', () => {
  test('each outcome as its promise settles, with the promise itself; a rejection does not end the loop', async () => {
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const seen: string[] = [];
    const loop = (async () => {
      for await (const outcome of asCompleted([a.promise, b.promise, c.promise])) {
        const name = outcome.promise === a.promise ? 'a' : outcome.promise === b.promise ? 'b' : 'c';
        seen.push(outcome.status === 'fulfilled' ? `${name}=${outcome.value}` : `${name}!${(outcome.reason as Error).message}`);
      }
    })();
    b.resolve(2);
    await flushMicrotasks();
    expect(seen).toEqual(['b=2']); // yielded as soon as it settled, before the others
    c.reject(new Error('boom'));
    a.resolve(1);
    await loop;
    expect(seen).toEqual(['b=2', 'c!boom', 'a=1']);
  });

  test('promises settled before the call come first, in input order; a promise given twice is yielded once', async () => {
    const late = deferred();
    const early = Promise.resolve('early');
    const failed = Promise.reject(new RangeError('failed'));
    const iterator = asCompleted([late.promise, early, failed, early, late.promise]);
    const first = await iterator.next();
    const second = await iterator.next();
    expect(first.value).toEqual({ promise: early, status: 'fulfilled', value: 'early' });
    expect(second.value).toMatchObject({ promise: failed, status: 'rejected' });
    expect((second.value as { reason: Error }).reason).toBeInstanceOf(RangeError);
    late.resolve(7);
    expect(await iterator.next()).toEqual({ value: { promise: late.promise, status: 'fulfilled', value: 7 }, done: false });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  test('an empty iterable yields nothing; any iterable works (a Set, map.keys())', async () => {
    expect(await collect(asCompleted([]))).toEqual([]);
    const p = Promise.resolve(1);
    const q = Promise.resolve(2);
    const inputs = new Map([
      [p, 'p'],
      [q, 'q'],
    ]);
    expect((await collect(asCompleted(inputs.keys()))).map((o) => inputs.get(o.promise))).toEqual(['p', 'q']);
    expect((await collect(asCompleted(new Set([q])))).map((o) => o.promise)).toEqual([q]);
  });

  test('concurrent next() calls get successive outcomes, and the ones beyond the last get done', async () => {
    const [a, b] = [deferred(), deferred()];
    const iterator = asCompleted([a.promise, b.promise]);
    const calls = [iterator.next(), iterator.next(), iterator.next()];
    a.resolve(1);
    b.resolve(2);
    const results = await Promise.all(calls);
    expect(results.map((r) => (r.done ? 'done' : (r.value as { value: number }).value))).toEqual([1, 2, 'done']);
  });

  test('rejections are handled from the call on: an iterator never read raises no unhandledRejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const rejected = Promise.reject(new Error('nobody reads me'));
      asCompleted([rejected]);
      await flushMicrotasks();
      await flushMicrotasks();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('thenables: one whose then throws is a rejection; one that calls back twice is reported once', async () => {
    const error = new Error('then threw');
    const throwing: PromiseLike<number> = {
      then() {
        throw error;
      },
    };
    const twice: PromiseLike<number> = {
      then(onFulfilled, onRejected) {
        onFulfilled?.(1);
        onFulfilled?.(2);
        onRejected?.(new Error('late'));
        return undefined as never;
      },
    };
    const outcomes = await collect(asCompleted([throwing, twice]));
    expect(outcomes).toEqual([
      { promise: twice, status: 'fulfilled', value: 1 },
      { promise: throwing, status: 'rejected', reason: error },
    ]);
  });
});

describe('asCompleted: timeout', () => {
  test('past the deadline with promises pending, next() throws WaitTimeoutError and the iteration ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const never = deferred();
    const quick = deferred();
    const iterator = asCompleted([never.promise, quick.promise], { timeout: 500 });
    const first = iterator.next();
    await vi.advanceTimersByTimeAsync(200);
    quick.resolve(1);
    expect((await first).value).toMatchObject({ promise: quick.promise, value: 1 });
    const second = iterator.next().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(299);
    let settled = false;
    void second.then(() => (settled = true));
    await flushMicrotasks();
    expect(settled).toBe(false); // 499 ms after the call: still waiting
    await vi.advanceTimersByTimeAsync(1);
    const error = (await second) as WaitTimeoutError;
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error.name).toBe('WaitTimeoutError');
    expect(error.message).toBe('asCompleted: 1 (of 2) promises unfinished after 500 ms');
    expect(error.timeout).toBe(500);
    expect([...error.pending]).toEqual([never.promise]);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  test('the deadline counts from the call, not from the first next()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const iterator = asCompleted([deferred().promise], { timeout: 100 });
    await vi.advanceTimersByTimeAsync(150);
    const next = iterator.next().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(await next).toBeInstanceOf(WaitTimeoutError);
  });

  test('outcomes that arrived are yielded even when asked for after the deadline; then it throws', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const [a, b, never] = [deferred(), deferred(), deferred()];
    const iterator = asCompleted([a.promise, b.promise, never.promise], { timeout: 100 });
    a.resolve(1);
    await vi.advanceTimersByTimeAsync(50);
    b.resolve(2);
    await vi.advanceTimersByTimeAsync(200); // the consumer was slow: it asks only now
    expect((await iterator.next()).value).toMatchObject({ value: 1 });
    expect((await iterator.next()).value).toMatchObject({ value: 2 });
    const last = iterator.next().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(await last).toBeInstanceOf(WaitTimeoutError);
  });

  test('timeout 0 still yields the promises settled before the call, then throws', async () => {
    const done = Promise.resolve('done');
    const outcomes: unknown[] = [];
    const error = await (async () => {
      for await (const outcome of asCompleted([deferred().promise, done], { timeout: 0 })) outcomes.push(outcome);
    })().catch((e: unknown) => e);
    expect(outcomes).toEqual([{ promise: done, status: 'fulfilled', value: 'done' }]);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe('asCompleted: 1 (of 2) promises unfinished after 0 ms');
  });

  test('a timeout beyond setTimeout’s 24.8-day limit is armed in steps, instead of firing at once', async () => {
    // Node runs a longer delay after 1 ms (TimeoutOverflowWarning); fake timers do not, so watch the delays asked for.
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const iterator = asCompleted([deferred().promise], { timeout: 2 ** 31 + 1000 });
      const next = iterator.next();
      const delays = spy.mock.calls.map((call) => call[1]);
      expect(delays).toHaveLength(1);
      expect(delays[0]).toBe(2 ** 31 - 1);
      await iterator.return!();
      expect(await next).toEqual({ value: undefined, done: true });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('asCompleted: nothing left behind', () => {
  test('a timer exists only while a next() waits: return() with one waiting clears it', async () => {
    const before = activeTimers();
    const never = deferred();
    const iterator = asCompleted([never.promise], { timeout: 60_000 });
    expect(activeTimers()).toBe(before); // nobody is waiting yet: no timer
    const next = iterator.next();
    expect(activeTimers()).toBe(before + 1);
    await iterator.return!();
    expect(await next).toEqual({ value: undefined, done: true }); // the waiting call ends, it does not hang
    expect(activeTimers()).toBe(before);
    never.resolve(1); // a late settlement reaches nothing
    await flushMicrotasks();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  test('breaking out of the loop early, and the timeout firing, leave no timer', async () => {
    const before = activeTimers();
    const never = deferred();
    for await (const outcome of asCompleted([Promise.resolve(1), never.promise], { timeout: 60_000 })) {
      expect(outcome).toMatchObject({ value: 1 });
      break;
    }
    expect(activeTimers()).toBe(before);
    const error = await collect(asCompleted([never.promise], { timeout: 5 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(activeTimers()).toBe(before);
  });

  test('after the last outcome no timer is left, and late thenable callbacks reach nothing', async () => {
    const before = activeTimers();
    let callBack: ((value: number) => void) | undefined;
    const captured: PromiseLike<number> = {
      then(onFulfilled) {
        callBack = onFulfilled as (value: number) => void;
        return undefined as never;
      },
    };
    const iterator = asCompleted([captured, Promise.resolve(2)], { timeout: 60_000 });
    expect((await iterator.next()).value).toMatchObject({ value: 2 });
    const waiting = iterator.next();
    expect(activeTimers()).toBe(before + 1);
    await iterator.return!();
    await waiting;
    callBack!(1); // the handler is switched off: nothing is queued, nothing throws
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(activeTimers()).toBe(before);
  });
});
