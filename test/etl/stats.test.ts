/**
 * poolStats: exact windowed figures in virtual time against scripted stats, then a real pool held
 * busy by an Atomics handshake (no sleeps), and the timer's lifetime.
 */
import { take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ThreadPool, type PoolStats } from '../../src/index.ts';
import { poolStats, type PoolStatsSample } from '../../src/stats/index.ts';

/** `Atomics.waitAsync` (Node 16+; typed only from lib ES2024). */
function waitAsync(array: Int32Array, index: number, value: number): Promise<unknown> {
  const { async, value: result } = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync(array, index, value);
  return async ? (result as Promise<unknown>) : Promise.resolve(result);
}

function scripted(scheduler: TestScheduler, maxWorkers: number, at: (t: number) => Partial<PoolStats>) {
  return {
    maxWorkers,
    get stats(): PoolStats {
      const t = scheduler.now();
      return { state: 'open', workers: maxWorkers, busy: 0, queued: 0, completed: 0, failed: 0, cancelled: 0, busyTime: 0, uptime: t, utilization: 0, ...at(t) };
    },
  };
}

describe('poolStats in virtual time', () => {
  test('a sample on subscribe, then one per interval, with windowed utilization and throughput', { timeout: 5_000 }, () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ expectObservable }) => {
      // One of 2 workers busy all the time until t=20, then both; 3 tasks done per 10 ms, 1 failed at t=30.
      const pool = scripted(scheduler, 2, (t) => ({
        busyTime: t <= 20 ? t : 20 + (t - 20) * 2,
        completed: (t / 10) * 3,
        failed: t >= 30 ? 1 : 0,
      }));
      const samples = poolStats(pool, { interval: 10, scheduler });
      expectObservable(samples.pipe(take(4))).toBe('a 9ms b 9ms c 9ms (d|)', {
        a: expect.objectContaining({ window: 0, windowUtilization: 0, settled: 0, throughput: 0 }),
        b: expect.objectContaining({ window: 10, windowUtilization: 0.5, settled: 3, throughput: 300, completed: 3 }),
        c: expect.objectContaining({ window: 10, windowUtilization: 0.5, settled: 3, throughput: 300, completed: 6 }),
        d: expect.objectContaining({ window: 10, windowUtilization: 1, settled: 4, throughput: 400, completed: 9, failed: 1 }),
      });
    });
  });

  test('unsubscribing stops the samples; an open pool\'s stream never completes by itself', { timeout: 5_000 }, () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ expectObservable }) => {
      const pool = scripted(scheduler, 1, () => ({}));
      expectObservable(poolStats(pool, { interval: 5, scheduler }), '^ 12ms !').toBe('a 4ms a 4ms a', { a: expect.objectContaining({ workers: 1 }) });
    });
  });

  test('completes after the first sample that finds the pool closed or broken', { timeout: 5_000 }, () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ expectObservable }) => {
      for (const end of ['closed', 'broken'] as const) {
        const pool = scripted(scheduler, 1, (t) => ({ state: t < 8 ? 'open' : t < 10 ? 'closing' : end }));
        expectObservable(poolStats(pool, { interval: 5, scheduler })).toBe('a 4ms b 4ms (c|)', {
          a: expect.objectContaining({ state: 'open' }),
          b: expect.objectContaining({ state: 'open' }),
          c: expect.objectContaining({ state: end }),
        });
      }
    });
  });

  test('a stats getter that throws errors the stream', { timeout: 5_000 }, () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ expectObservable }) => {
      let calls = 0;
      const pool = {
        maxWorkers: 1,
        get stats(): PoolStats {
          if (++calls === 3) throw new Error('gone');
          return { state: 'open', workers: 1, busy: 0, queued: 0, completed: 0, failed: 0, cancelled: 0, busyTime: 0, uptime: scheduler.now(), utilization: 0 };
        },
      };
      expectObservable(poolStats(pool, { interval: 5, scheduler })).toBe('a 4ms a 4ms #', { a: expect.anything() }, new Error('gone'));
    });
  });

  test('bad arguments throw at once', () => {
    const pool = { maxWorkers: 1, stats: {} as PoolStats };
    expect(() => poolStats({} as never)).toThrow(/stats/);
    expect(() => poolStats(pool, { interval: 0 })).toThrow(/interval/);
    expect(() => poolStats(pool, { interval: Infinity })).toThrow(/interval/);
    expect(() => poolStats(pool, { scheduler: 5 as never })).toThrow(/scheduler/);
  });
});

describe('poolStats on a ThreadPool', () => {
  afterEach(() => void vi.restoreAllMocks());

  test('shows busy and queued while tasks are held, then what completed; windows add up', { timeout: 10_000 }, async () => {
    await using pool = new ThreadPool({ maxWorkers: 2 });
    // [0]: tasks started; [1]: set to 1 to let them return.
    const shared = new SharedArrayBuffer(8);
    const flags = new Int32Array(shared);
    const held = (sab: SharedArrayBuffer) => {
      const f = new Int32Array(sab);
      Atomics.add(f, 0, 1);
      Atomics.notify(f, 0);
      Atomics.wait(f, 1, 0);
      return 1;
    };
    const results = Promise.all([pool.submit(held, [shared]), pool.submit(held, [shared]), pool.submit(held, [shared])]);
    // Wait (without sleeping) until two tasks run: the third waits in the queue.
    while (Atomics.load(flags, 0) < 2) await waitAsync(flags, 0, Atomics.load(flags, 0));

    const samples: PoolStatsSample[] = [];
    let sawAll!: () => void;
    const allSeen = new Promise<void>((resolve) => (sawAll = resolve));
    const stats$ = poolStats(pool, { interval: 5 });
    const subscription = stats$.subscribe((s) => {
      samples.push(s);
      if (s.completed === 3) sawAll();
    });
    expect(samples[0]).toMatchObject({ workers: 2, busy: 2, queued: 1, completed: 0 });

    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    expect(await results).toEqual([1, 1, 1]);
    await allSeen;
    subscription.unsubscribe();
    expect(samples.at(-1)).toMatchObject({ busy: 0, queued: 0, completed: 3, failed: 0 });
    expect(samples.at(-1)!.busyTime).toBeGreaterThan(0);
    // The windows of one subscription count every settled task exactly once.
    expect(samples.reduce((n, s) => n + s.settled, 0)).toBe(3);
    for (const s of samples) {
      expect(s.windowUtilization).toBeGreaterThanOrEqual(0);
      expect(s.windowUtilization).toBeLessThanOrEqual(1);
      expect(s.throughput).toBeGreaterThanOrEqual(0);
      expect(s.window).toBeGreaterThanOrEqual(0);
    }
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.completed).toBeGreaterThanOrEqual(samples[i - 1]!.completed);
  });

  test('its timer never keeps the process alive and is cleared on unsubscribe', { timeout: 5_000 }, () => {
    const setSpy = vi.spyOn(globalThis, 'setInterval');
    const clearSpy = vi.spyOn(globalThis, 'clearInterval');
    const pool = new ThreadPool({ maxWorkers: 1 });
    const subscription = poolStats(pool, { interval: 1000 }).subscribe();
    expect(setSpy).toHaveBeenCalledTimes(1);
    const timer = setSpy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    subscription.unsubscribe();
    expect(clearSpy).toHaveBeenCalledWith(timer);
    void pool.shutdown();
  });
});
