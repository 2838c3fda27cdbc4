/**
 * wait: Python's concurrent.futures.wait over promises, with each return_when. Promises are
 * settled by hand; time is faked where a deadline matters, real timers are counted for leaks.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { wait } from '../../src/pools/index.ts';
import { activeTimers, deferred, flushMicrotasks } from './helpers.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** Resolves to true once `promise` has settled (checked after the microtasks queued so far). */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await flushMicrotasks();
  return settled;
}

describe('wait: returnWhen', () => {
  test("ALL_COMPLETED (the default) returns once every promise settled, done in settlement order; it never rejects", async () => {
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const result = wait([a.promise, b.promise, c.promise]);
    c.resolve(3);
    a.reject(new Error('a failed'));
    expect(await hasSettled(result)).toBe(false);
    b.resolve(2);
    const { done, pending } = await result;
    expect(done.map((o) => o.promise)).toEqual([c.promise, a.promise, b.promise]);
    expect(done[0]).toEqual({ promise: c.promise, status: 'fulfilled', value: 3 });
    expect(done[1]).toMatchObject({ status: 'rejected', reason: new Error('a failed') });
    expect(pending.size).toBe(0);
  });

  test('FIRST_COMPLETED returns at the first settlement, a rejection included; pending holds the rest', async () => {
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const result = wait([a.promise, b.promise, c.promise], { returnWhen: 'FIRST_COMPLETED' });
    expect(await hasSettled(result)).toBe(false);
    b.reject(new TypeError('b'));
    const { done, pending } = await result;
    expect(done).toEqual([{ promise: b.promise, status: 'rejected', reason: new TypeError('b') }]);
    expect(pending).toEqual(new Set([a.promise, c.promise]));
    a.resolve(1); // later settlements do not touch the result already returned
    await flushMicrotasks();
    expect(done).toHaveLength(1);
    expect(pending.size).toBe(2);
  });

  test('FIRST_COMPLETED with a promise already settled returns at once, whatever the others do', async () => {
    const never = deferred();
    const settled = Promise.resolve('ready');
    const { done, pending } = await wait([never.promise, settled], { returnWhen: 'FIRST_COMPLETED' });
    expect(done).toEqual([{ promise: settled, status: 'fulfilled', value: 'ready' }]);
    expect([...pending]).toEqual([never.promise]);
  });

  test('FIRST_EXCEPTION returns at the first rejection, with what fulfilled before it', async () => {
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const result = wait([a.promise, b.promise, c.promise], { returnWhen: 'FIRST_EXCEPTION' });
    a.resolve(1);
    expect(await hasSettled(result)).toBe(false); // a fulfilment is not an exception
    c.reject(new Error('c failed'));
    const { done, pending } = await result;
    expect(done.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect([...pending]).toEqual([b.promise]);
  });

  test('FIRST_EXCEPTION without any rejection is ALL_COMPLETED', async () => {
    const [a, b] = [deferred(), deferred()];
    const result = wait([a.promise, b.promise], { returnWhen: 'FIRST_EXCEPTION' });
    a.resolve(1);
    expect(await hasSettled(result)).toBe(false);
    b.resolve(2);
    const { done, pending } = await result;
    expect(done.map((o) => (o.status === 'fulfilled' ? o.value : undefined))).toEqual([1, 2]);
    expect(pending.size).toBe(0);
  });

  test('a promise given twice counts once; an empty iterable returns at once', async () => {
    const a = deferred();
    const result = wait([a.promise, a.promise, a.promise]);
    a.resolve(1);
    expect((await result).done).toHaveLength(1);
    expect(await wait([])).toEqual({ done: [], pending: new Set() });
  });

  test("the re-wait idiom: wait(pending, { returnWhen: 'FIRST_COMPLETED' }) until nothing is pending", async () => {
    const ds = [deferred(), deferred(), deferred()];
    let pending = new Set(ds.map((d) => d.promise));
    const order: number[] = [];
    for (const i of [2, 0, 1]) {
      const next = wait(pending, { returnWhen: 'FIRST_COMPLETED' });
      ds[i]!.resolve(i);
      const result = await next;
      for (const outcome of result.done) if (outcome.status === 'fulfilled') order.push(outcome.value);
      pending = result.pending;
    }
    expect(order).toEqual([2, 0, 1]);
    expect(pending.size).toBe(0);
  });
});

describe('wait: timeout', () => {
  test('past the timeout it resolves with what settled so far (it does not reject)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const [a, b] = [deferred(), deferred()];
    const result = wait([a.promise, b.promise], { timeout: 1000 });
    a.resolve(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(await hasSettled(result)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const { done, pending } = await result;
    expect(done).toEqual([{ promise: a.promise, status: 'fulfilled', value: 1 }]);
    expect([...pending]).toEqual([b.promise]);
  });

  test('timeout 0 reports the promises settled before the call', async () => {
    const settled = Promise.reject(new Error('old news'));
    const never = deferred();
    const { done, pending } = await wait([never.promise, settled], { timeout: 0 });
    expect(done).toMatchObject([{ promise: settled, status: 'rejected' }]);
    expect([...pending]).toEqual([never.promise]);
  });
});

describe('wait: nothing left behind', () => {
  test('returning before the timeout clears its timer; so does the timeout itself', async () => {
    const before = activeTimers();
    const a = deferred();
    const result = wait([a.promise, deferred().promise], { returnWhen: 'FIRST_COMPLETED', timeout: 60_000 });
    expect(activeTimers()).toBe(before + 1);
    a.resolve(1);
    await result;
    expect(activeTimers()).toBe(before);
    await wait([deferred().promise], { timeout: 5 });
    expect(activeTimers()).toBe(before);
  });
});
