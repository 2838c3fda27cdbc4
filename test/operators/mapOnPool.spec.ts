/**
 * mapOnPool in virtual time: marble tests (output and subscription marbles) of what the scenario
 * files in marbles/ do not cover, and the bounds as properties over generated runs.
 */
import { Subject, from, map, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { BufferOverflowError, TaskError, WorkerCrashedError } from '../../src/errors.ts';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import type { BatchCallback, Cancel, Pool, Task } from '../../src/pools/Pool.ts';
import { ThreadPool } from '../../src/pools/index.ts';
import { task } from '../../src/pools/task.ts';
import { VirtualPool } from '../../src/testing/index.ts';
import { openGate } from '../fixtures/gate.ts';
import { prng } from '../fixtures/prng.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const upper = (x: string) => x.toUpperCase();
const frames = (table: Record<string, number>) => (x: string) => table[x] ?? 1;


describe('batches (chunksize)', () => {
  test('the items of a batch before a failing one are emitted, then the error', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 1 });
      const fn = (x: string) => {
        if (x === 'c') throw new Error('bad c');
        return x.toUpperCase();
      };
      const source = cold('  (abcd|)');
      const expected = '     -A--(B#)';
      const sourceSubs = '   (^!)';
      expectObservable(source.pipe(mapOnPool(pool, fn, { chunksize: 3 }))).toBe(expected, undefined, new Error('bad c'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  test('the same holds unordered', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: frames({ a: 9 }) });
      const fn = (x: string) => {
        if (x === 'd') throw new Error('bad d');
        return x.toUpperCase();
      };
      // a and b each take a free slot alone; [c, d, e] goes when b is done (frame 1) and settles at
      // 4: C, then d's error. a, still running, is cancelled.
      const source = cold('  (abcde|)');
      const expected = '     -B--(C#)';
      expectObservable(source.pipe(mapOnPool(pool, fn, { chunksize: 4, ordered: false }))).toBe(expected, undefined, new Error('bad d'));
    });
  });

  test('a batch-wide error counts as the error of its first item: earlier results first, none of its own', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const virtual = new VirtualPool({ maxWorkers: 2, duration: frames({ a: 4 }) });
      const crash = new WorkerCrashedError('worker exited with code 1', 1, null);
      // A pool whose batches holding 'x' fail as a whole, like a worker crash.
      const crashing: Pool = {
        maxWorkers: 2,
        runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>): Cancel {
          return virtual.runBatch<T, R>(fn, items, (error, result) =>
            items.includes('x' as T) ? callback(crash, undefined) : callback(error, result),
          );
        },
      };
      // b settles at 2 and waits for a; [x, c] crashes at 4, when a is done: A, B, then the crash.
      const source = cold('  ab(xc)|');
      const expected = '     ----(AB#)';
      const sourceSubs = '   ^---!';
      expectObservable(source.pipe(mapOnPool(crashing, upper, { concurrency: 2, chunksize: 2 }))).toBe(expected, undefined, crash);
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });
});

describe('errors', () => {
  test('ordered: after an item fails, later values are ignored and nothing new starts; the error waits for earlier results', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 3, duration: frames({ a: 10 }) });
      const fn = (x: string) => {
        if (x === 'b') throw new Error('bad b');
        return x.toUpperCase();
      };
      const source = cold('  ab-cd-|');
      const expected = '     ----------(A#)';
      const sourceSubs = '   ^-----!'; // it completes on its own; c and d were ignored
      expectObservable(source.pipe(mapOnPool(pool, fn))).toBe(expected, undefined, new Error('bad b'));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      flush();
      expect(pool.log.map((b) => b.items)).toEqual([['a'], ['b']]); // c and d never submitted
    });
  });

  test('ordered: later batches in flight are cancelled as soon as an item fails, not when the error is emitted', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 3, duration: frames({ a: 10, b: 2, c: 5 }) });
      const fn = (x: string) => {
        if (x === 'b') throw new Error('bad b');
        return x.toUpperCase();
      };
      expectObservable(cold('abc|').pipe(mapOnPool(pool, fn))).toBe('----------(A#)', undefined, new Error('bad b'));
      flush();
      expect(pool.log.map(({ items, endedAt, state }) => [items[0], endedAt, state])).toEqual([
        ['a', 10, 'done'],
        ['b', 3, 'done'],
        ['c', 3, 'cancelled'], // at b's failure (frame 3), although it would run until 7
      ]);
    });
  });

  test('ordered: values arriving after an item failed are ignored, so they cannot overflow the buffer', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: frames({ a: 10 }) });
      const fn = (x: string) => {
        if (x === 'b') throw new Error('bad b');
        return x.toUpperCase();
      };
      const source = cold('  ab--cdefg|');
      const expected = '     ----------(A#)';
      expectObservable(source.pipe(mapOnPool(pool, fn, { maxBuffered: 1 }))).toBe(expected, undefined, new Error('bad b'));
    });
  });

  test('ordered: a later batch failing first is superseded by an earlier one that fails later', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 3, duration: frames({ a: 6, b: 4, c: 1 }) });
      const fn = (x: string) => {
        if (x !== 'a') throw new Error(`bad ${x}`);
        return x.toUpperCase();
      };
      const source = cold('  abc|');
      const expected = '     ------(A#)';
      expectObservable(source.pipe(mapOnPool(pool, fn))).toBe(expected, undefined, new Error('bad b'));
    });
  });

  test('a source error wins over an item error still waiting for earlier results', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 3, duration: frames({ a: 10 }) });
      const fn = (x: string) => {
        if (x === 'b') throw new Error('bad b');
        return x;
      };
      const source = cold('  ab---#', undefined, new Error('upstream'));
      const expected = '     -----#';
      expectObservable(source.pipe(mapOnPool(pool, fn))).toBe(expected, undefined, new Error('upstream'));
    });
  });

  test('a non-Error thrown by a task arrives as a TaskError keeping the value', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 2 });
      const fn = (x: string) => {
        throw { code: x };
      };
      let error: unknown;
      const result = cold('a|').pipe(
        mapOnPool(pool, fn),
        tap({ error: (e: unknown) => (error = e) }),
      );
      expectObservable(result).toBe('--#', undefined, expect.any(TaskError));
      flush();
      expect((error as TaskError).value).toEqual({ code: 'a' });
    });
  });

  test('a pool that throws from runBatch errors the stream at once', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 1 });
      const ref = task<(x: string) => string>('file:///tasks.js', 'upper');
      const source = cold('  -a-b|');
      const expected = '     -#';
      const sourceSubs = '   ^!';
      expectObservable(source.pipe(mapOnPool(pool, ref))).toBe(expected, undefined, expect.any(TypeError));
      expectSubscriptions(source.subscriptions).toBe(sourceSubs);
    });
  });

  test('onDrop throwing errors the stream with what it threw', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 5 });
      const boom = new Error('onDrop failed');
      const onDrop = () => {
        throw boom;
      };
      expectObservable(cold('abc|').pipe(mapOnPool(pool, upper, { maxBuffered: 1, overflow: 'drop-newest', onDrop }))).toBe(
        '--#',
        undefined,
        boom,
      );
    });
  });
});

describe('buffering', () => {
  test('maxBuffered 0 with drop-newest drops whatever arrives while busy (like exhaustMap)', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 3 });
      const dropped: [string, number][] = [];
      const source = cold('  abcd--e-|');
      const expected = '     ---A-----(E|)';
      expectObservable(
        source.pipe(mapOnPool(pool, upper, { maxBuffered: 0, overflow: 'drop-newest', onDrop: (v, n) => dropped.push([v, n]) })),
      ).toBe(expected);
      flush();
      expect(dropped).toEqual([
        ['b', 1],
        ['c', 2],
        ['d', 3],
      ]);
    });
  });

  test('the overflow error names the bound and is a BufferOverflowError', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 3 });
      let error: unknown;
      const result = cold('abcd|').pipe(
        mapOnPool(pool, upper, { maxBuffered: 2 }),
        tap({ error: (e: unknown) => (error = e) }),
      );
      expectObservable(result).toBe('---#', undefined, expect.any(BufferOverflowError));
      flush();
      expect(error).toBeInstanceOf(BufferOverflowError);
      expect((error as BufferOverflowError).bound).toBe(2);
      expect((error as Error).message).toMatch(/^maxBuffered \(2\) exceeded: /);
    });
  });

  test('a synchronous infinite source is stopped when the stream errors while it is still emitting', () => {
    const pool = new VirtualPool({ maxWorkers: 1, duration: () => 1 });
    let pulled = 0;
    // A million stands for "forever": were the source not stopped, the test fails instead of hanging.
    function* forever() {
      while (pulled < 1_000_000) yield pulled++;
    }
    let error: unknown;
    from(forever())
      .pipe(mapOnPool(pool, (x: number) => x, { maxBuffered: 10 }))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(BufferOverflowError);
    // 1 running + 10 buffered + the one that overflowed, + the one takeWhile refused.
    expect(pulled).toBe(13);
    expect(pool.running).toBe(0); // the running batch was cancelled
  });
});

describe('a shared pool', () => {
  test('two subscriptions share its workers FIFO; unsubscribing one cancels only its own batches', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: (x: string) => (x === 'b' ? 8 : 4) });
      const a = cold(' ab|');
      const b = cold(' -xy|');
      expectObservable(a.pipe(mapOnPool(pool, upper)), '  ^-----!').toBe('----A-');
      expectObservable(b.pipe(mapOnPool(pool, upper))).toBe('        --------X-(Y|)');
      flush();
      expect(pool.peakRunning).toBe(2);
      // x and y wait in the pool's FIFO queue: x for a (done at 4), y for b (cancelled at 6).
      expect(pool.log.map(({ items, submittedAt, startedAt, endedAt, state }) => [items[0], submittedAt, startedAt, endedAt, state])).toEqual([
        ['a', 0, 0, 4, 'done'],
        ['b', 1, 1, 6, 'cancelled'],
        ['x', 1, 4, 8, 'done'],
        ['y', 2, 6, 10, 'done'],
      ]);
    });
  });

  test('concurrency above maxWorkers queues batches in the pool, still in order', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 2 });
      expectObservable(cold('(abc|)').pipe(mapOnPool(pool, upper, { concurrency: 3 }))).toBe('--A-B-(C|)');
      flush();
      expect(pool.log.map((b) => b.submittedAt)).toEqual([0, 0, 0]); // all submitted at once …
      expect(pool.peakRunning).toBe(1); // … run one at a time
    });
  });
});

describe('re-entrancy', () => {
  test.each([
    [1, true],
    [2, true],
    [2, false],
  ])('a consumer that feeds the source synchronously gets every result once, in order (concurrency %i, ordered %s)', (concurrency, ordered) => {
    scheduler().run(({ flush }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: (x: number) => (x % 3) + 1 });
      const input = new Subject<number>();
      const seen: number[] = [];
      let completed = false;
      input
        .pipe(
          mapOnPool(pool, (x: number) => x, { concurrency, ordered, maxBuffered: 1 }),
          // Each result feeds the next value while it is being emitted: 1 → 3 → 5 → 7, 2 → 4 → 6.
          tap((x) => (x < 6 ? input.next(x + 2) : x === 7 ? input.complete() : undefined)),
        )
        .subscribe({ next: (x) => seen.push(x), complete: () => (completed = true) });
      input.next(1);
      input.next(2);
      flush();
      expect(seen.filter((x) => x % 2 === 1)).toEqual([1, 3, 5, 7]);
      expect(seen.filter((x) => x % 2 === 0)).toEqual([2, 4, 6]);
      if (ordered) expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(completed).toBe(true);
    });
  });
});

describe('bounds, as properties of generated runs', () => {
  /** A random cold source of distinct letters: gaps, synchronous pairs, completing. */
  function randomMarble(random: () => number, letters: string): string {
    let marble = '';
    for (let i = 0; i < letters.length; ) {
      const r = random();
      if (r < 0.35) marble += '-';
      else if (r < 0.5 && i + 1 < letters.length) {
        marble += `(${letters[i]}${letters[i + 1]})`;
        i += 2;
      } else marble += letters[i++];
    }
    return `${marble}|`;
  }

  test('never more than concurrency batches running, nor more than 2 × concurrency − 1 between source and output', () => {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    let reached = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const random = prng(seed);
      const concurrency = 1 + Math.floor(random() * 4);
      const ordered = random() < 0.7;
      const durations = Object.fromEntries([...letters].map((l) => [l, Math.floor(random() * 12)]));
      const marble = randomMarble(random, letters);
      scheduler().run(({ cold, flush }) => {
        const pool = new VirtualPool({ maxWorkers: 8, duration: (x: string) => durations[x]! });
        let submitted = 0;
        let emitted = 0;
        let maxBetween = 0;
        const counting: Pool = {
          maxWorkers: pool.maxWorkers,
          runBatch(fn, items, callback) {
            submitted++;
            maxBetween = Math.max(maxBetween, submitted - emitted);
            return pool.runBatch(fn, items, callback);
          },
        };
        const results: string[] = [];
        let completed = false;
        cold(marble)
          .pipe(mapOnPool(counting, (x: string) => x, { concurrency, ordered }))
          .subscribe({ next: (x) => (emitted++, results.push(x)), complete: () => (completed = true) });
        flush();
        const context = `seed ${seed}: ${marble}, concurrency ${concurrency}, ordered ${ordered}`;
        expect(completed, context).toBe(true);
        expect(ordered ? results : [...results].sort(), context).toEqual([...letters]);
        expect(pool.peakRunning, context).toBeLessThanOrEqual(concurrency);
        if (ordered) {
          expect(maxBetween, context).toBeLessThanOrEqual(2 * concurrency - 1);
          if (concurrency > 1 && maxBetween === 2 * concurrency - 1) reached++;
        } else {
          expect(maxBetween, context).toBeLessThanOrEqual(concurrency);
        }
      });
    }
    // The ordered bound is tight: some runs reach it, so the check is not vacuous.
    expect(reached).toBeGreaterThan(0);
  });
});

describe('on a real, shared ThreadPool', () => {
  const gatedItem = task<(item: { path: string; value: number }) => Promise<number>>(new URL('../fixtures/tasks.ts', import.meta.url), 'gatedItem');

  test('unsubscribing cancels only this subscription\'s tasks; the pool stays open and usable', { timeout: 15_000 }, async () => {
    await using gate = await openGate();
    await using pool = new ThreadPool({ maxWorkers: 3 });
    const a: number[] = [];
    const b: number[] = [];
    const subscriptionA = from([0, 1, 2])
      .pipe(
        map((value) => ({ path: gate.path, value })),
        mapOnPool(pool, gatedItem, { concurrency: 2 }),
      )
      .subscribe((x) => a.push(x));
    const bDone = new Promise<void>((resolve) =>
      from([10])
        .pipe(
          map((value) => ({ path: gate.path, value })),
          mapOnPool(pool, gatedItem),
        )
        .subscribe({ next: (x) => b.push(x), complete: resolve }),
    );
    await Promise.all([gate.started(0), gate.started(1), gate.started(10)]); // all three running, held
    subscriptionA.unsubscribe();
    expect(pool.stats.cancelled).toBe(2); // a's two running tasks were cancelled …
    expect(pool.stats.failed).toBe(0);
    gate.release(10);
    await bDone; // … b's was not
    expect(b).toEqual([10]);
    expect(a).toEqual([]);
    expect(gate.log.filter((v) => v === 2)).toEqual([]); // a's third value never started
    await expect(pool.submit((x: number) => x + 1, [41])).resolves.toBe(42); // still open
    const again = await new Promise<number[]>((resolve) => {
      const out: number[] = [];
      from([1, 2, 3])
        .pipe(mapOnPool(pool, (x: number) => x * 2))
        .subscribe({ next: (x) => out.push(x), complete: () => resolve(out) });
    });
    expect(again).toEqual([2, 4, 6]); // and usable by the operator again
  });
});
