/**
 * flatMapOnPool: marble tests on a VirtualPool (each streamed value takes `duration` frames, so
 * values arrive over frames), then the same contract on real ThreadPool and ProcessPool workers
 * with the gate's socket as the only synchronisation (test/fixtures/gate.ts).
 */
import { Subject, firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BufferOverflowError, TaskError, WorkerCrashedError } from '../../src/errors.ts';
import { flatMapOnPool } from '../../src/operators/flatMapOnPool.ts';
import type { Pool } from '../../src/pools/Pool.ts';
import { ProcessPool, ThreadPool, task, type WorkerPool } from '../../src/pools/index.ts';
import { VirtualPool } from '../../src/testing/index.ts';
import { openGate, type Gate } from '../fixtures/gate.ts';
import type * as Tasks from '../fixtures/stream-tasks.mjs';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const frames = (table: Record<string, number>, otherwise = 1) => (x: string) => table[x] ?? otherwise;

describe('in virtual time (VirtualPool: duration frames per streamed value)', () => {
  /** a's task yields 1, 2, 3; b's yields 4, 5. */
  const digits = (x: string) => (x === 'a' ? ['1', '2', '3'] : ['4', '5']);

  test("ordered: every value of a's stream, then b's; b ran beside a and its values waited (the doc's diagram)", () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: () => 3 });
      const source = cold('ab|');
      expectObservable(source.pipe(flatMapOnPool(pool, digits))).toBe('---1--2--(345|)');
      expectSubscriptions(source.subscriptions).toBe('^-!');
      flush();
      // b ran beside a (from frame 1 to 7) and its values waited for a's end at 9.
      expect(pool.log.map(({ kind, startedAt, endedAt, yielded }) => [kind, startedAt, endedAt, yielded])).toEqual([
        ['stream', 0, 9, 3],
        ['stream', 1, 7, 2],
      ]);
    });
  });

  test('ordered: false interleaves, values as they arrive (the doc\'s diagram)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: () => 3 });
      expectObservable(cold('ab|').pipe(flatMapOnPool(pool, digits, { ordered: false }))).toBe('---14-25-(3|)');
    });
  });

  test('concurrency is a hard bound on streams in flight: c starts when a stream ends', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 3, duration: frames({ a: 4, b: 2, c: 1 }) });
      const twice = (x: string) => [x, x.toUpperCase()];
      // a: a@4 A@8; b: b@3 B@5 (ends at 5); c waits for b's slot: c@6 C@7.
      expectObservable(cold('abc|').pipe(flatMapOnPool(pool, twice, { concurrency: 2 }))).toBe('----a---(AbBcC|)');
      flush();
      expect(pool.log.map((s) => s.startedAt)).toEqual([0, 1, 5]);
      expect(pool.peakRunning).toBe(2);
    });
  });

  test('credits: a later stream yields at most buffersize values while it waits for an earlier one, then resumes', () => {
    scheduler().run(({ cold, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: frames({ a: 10 }) });
      const fn = (x: string) => (x === 'a' ? ['a1', 'a2'] : ['b1', 'b2', 'b3', 'b4', 'b5']);
      const seen: string[] = [];
      const yielded: number[] = [];
      cold('ab|').pipe(flatMapOnPool(pool, fn, { buffersize: 2 })).subscribe((v) => seen.push(v));
      // Sample b's stream at every frame until a ends (frame 20), before that frame's deliveries.
      for (let f = 0; f <= 20; f++) cold(`${'-'.repeat(f)}x`).subscribe(() => yielded.push(pool.log[1]?.yielded ?? 0));
      flush();
      expect(yielded.slice(0, 5)).toEqual([0, 0, 0, 1, 2]); // b1 at 2, b2 at 3 …
      expect(new Set(yielded.slice(4))).toEqual(new Set([2])); // … then b waits, out of credit, until a's end
      expect(seen).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'b4', 'b5']);
      expect(pool.log[1]!.endedAt).toBe(23); // b3, b4, b5 one frame each after a's end
    });
  });

  test('ordered: an error comes after every value before it; later streams are cancelled at once', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 3, duration: frames({ a: 3 }) });
      const fn = function* (x: string) {
        yield x;
        if (x === 'b') throw new Error('bad b');
        yield x.toUpperCase();
      };
      const source = cold('abc--d|');
      const expected = '   ---a--(Ab#)';
      expectObservable(source.pipe(flatMapOnPool(pool, fn))).toBe(expected, undefined, new Error('bad b'));
      expectSubscriptions(source.subscriptions).toBe('^-----!'); // d was ignored
      flush();
      expect(pool.log.map(({ items, state, endedAt }) => [items[0], state, endedAt])).toEqual([
        ['a', 'done', 6],
        ['b', 'done', 3], // b: 'b' at 2, its error at 3
        ['c', 'cancelled', 3], // as soon as b failed, although it would have run until 4
      ]);
    });
  });

  test('unordered: the error is emitted when it arrives; the rest are cancelled, their iterators returned', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: frames({ a: 5 }) });
      const closed: string[] = [];
      const fn = function* (x: string) {
        try {
          yield x;
          if (x === 'b') throw new TaskError('bad b', 'b');
          yield x.toUpperCase();
        } finally {
          closed.push(x);
        }
      };
      expectObservable(cold('ab|').pipe(flatMapOnPool(pool, fn, { ordered: false }))).toBe('--b#', undefined, new TaskError('bad b', 'b'));
      flush();
      expect(closed).toEqual(['b', 'a']); // a was stopped at frame 3, its finally ran
    });
  });

  test('unsubscribing cancels every stream in flight: iterators returned (finally runs), queued ones never start', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: () => 2 });
      const closed: string[] = [];
      const forever = function* (x: string) {
        try {
          for (let i = 1; ; i++) yield `${x}${i}`;
        } finally {
          closed.push(x);
        }
      };
      // concurrency 3 on 2 workers: c is submitted, and waits in the pool's queue.
      expectObservable(cold('abc').pipe(flatMapOnPool(pool, forever, { concurrency: 3 })), '-----!').toBe('--x-y', { x: 'a1', y: 'a2' });
      flush();
      expect(closed).toEqual(['b', 'a']); // latest first: no queued stream starts in a freed slot
      expect(pool.log.map((s) => [s.items[0], s.state, s.endedAt])).toEqual([
        ['a', 'cancelled', 5],
        ['b', 'cancelled', 5],
        ['c', 'cancelled', 5], // queued: it never started
      ]);
      expect(pool.log[2]!.startedAt).toBeUndefined();
    });
  });

  test('a source error is passed on at once and cancels what is in flight; empty streams and an empty source complete', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: () => 4 });
      expectObservable(cold('a-#').pipe(flatMapOnPool(pool, (x: string) => [x]))).toBe('--#');
      expectObservable(cold('ab|').pipe(flatMapOnPool(pool, () => []))).toBe('--|');
      expectObservable(cold('|').pipe(flatMapOnPool(pool, (x: string) => [x]))).toBe('|');
    });
  });

  test('maxBuffered and overflow apply to source values waiting for a slot, as in mapOnPool', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 3 });
      const error = new BufferOverflowError(
        "maxBuffered (1) exceeded: a value arrived while 1 values were already waiting for one of 1 streams. Raise maxBuffered, slow the source down, or choose overflow 'drop-oldest' or 'drop-newest'",
        1,
      );
      const result = cold('abc|').pipe(flatMapOnPool(pool, (x: string) => [x], { maxBuffered: 1 }));
      expectObservable(result).toBe('--#', undefined, error);
    });
  });

  test('what virtual time cannot run is an error naming the fix', async () => {
    const pool = new VirtualPool({ maxWorkers: 1, duration: () => 1 });
    const error = await new Promise((resolve) => {
      scheduler().run(({ cold, flush }) => {
        cold('a|').pipe(flatMapOnPool(pool, async function* (x: string) { yield x; })).subscribe({ error: resolve });
        flush();
      });
    });
    expect(String(error)).toMatch(/returned an async iterable .* virtual time cannot wait for it. Use a generator function \(function\*\) or return an array/);
  });
});

describe('options and arguments are checked when the operator is made', () => {
  const pool = new VirtualPool({ maxWorkers: 2, duration: () => 1 });
  test.each([
    [{ concurrency: 0 }, /Expected `concurrency` to be an integer from 1 and up, got 0 \(number\)/],
    [{ buffersize: 0 }, /Expected `buffersize` to be an integer from 1 and up, got 0 \(number\)/],
    [{ ordered: 'yes' }, /Expected `ordered` to be a boolean, got "yes" \(string\)/],
    [{ chunksize: 4 }, /flatMapOnPool has no `chunksize`: each value is one streaming task/],
    [{ maxWorkers: 2 }, /Unknown flatMapOnPool option `maxWorkers`; known options: concurrency, ordered, buffersize, maxBuffered, overflow, onDrop \(pool options/],
  ])('%o', (options, message) => {
    expect(() => flatMapOnPool(pool, (x: string) => [x], options as never)).toThrow(message);
  });
  test('a pool that cannot stream is refused, naming what it lacks', () => {
    const batchesOnly: Pool = { maxWorkers: 1, runBatch: pool.runBatch.bind(pool) };
    expect(() => flatMapOnPool(batchesOnly, (x: string) => [x])).toThrow(/flatMapOnPool needs a pool that runs streaming tasks \(runStream\)/);
    expect(() => flatMapOnPool(pool, 3 as never)).toThrow(/Expected the task of flatMapOnPool to be a function or a task\(module, name\) reference/);
  });
});

// ── real workers ─────────────────────────────────────────────────────────────────────────────────

const tasks = new URL('../fixtures/stream-tasks.mjs', import.meta.url);
const t = {
  worker: task<typeof Tasks.worker>(tasks, 'worker'),
  rows: task<(item: { name: string; lines: number }) => AsyncGenerator<{ name: string; i: number }>>(tasks, 'rowsOf'),
  gatedValues: task<typeof Tasks.gatedValues>(tasks, 'gatedValues'),
  countForeverItem: task<(item: { path: string; key: string }) => AsyncGenerator<number>>(tasks, 'countForeverItem'),
  crashItem: task<(item: { path: string; key: string }) => AsyncGenerator<number>>(tasks, 'crashItem'),
  headOrCounter: task<(item: { path: string; key: string; values?: string[]; reportAt?: number }) => AsyncGenerator<unknown>>(tasks, 'headOrCounter'),
};

function reportOf(gate: Gate, key: string): { key: string; produced: number; worker: string } | undefined {
  return gate.log.find((v): v is { key: string; produced: number; worker: string } => (v as { key?: string })?.key === key);
}

describe.each([
  { name: 'ThreadPool', make: (o: object) => new ThreadPool(o) as WorkerPool },
  { name: 'ProcessPool', make: (o: object) => new ProcessPool(o) as WorkerPool },
])('$name', ({ make }) => {
  // Three workers, shared by the tests that need no pool of their own.
  let pool: WorkerPool;
  beforeAll(() => void (pool = make({ maxWorkers: 3 })));
  afterAll(() => pool.shutdown());

  test('ordered across tasks whatever their speed: all of task 1\'s values, then task 2\'s; the same as a plain flatMap', async () => {
    // Earlier files are slower: each row of item k costs (4 − k) ms, so later streams end first.
    const slowRows = async function* (item: { name: string; lines: number; ms: number }) {
      for (let i = 0; i < item.lines; i++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, item.ms);
        yield `${item.name}:${i}`;
      }
    };
    const files = [0, 1, 2, 3].map((k) => ({ name: `f${k}`, lines: 3 + k, ms: 4 - k }));
    const out = await lastValueFrom(from(files).pipe(flatMapOnPool(pool, slowRows, { concurrency: 3 }), toArray()));
    expect(out).toEqual(files.flatMap((f) => Array.from({ length: f.lines }, (_, i) => `${f.name}:${i}`)));
    // A module task, many values in batches, ordered.
    const many = await lastValueFrom(from([{ name: 'x', lines: 5000 }, { name: 'y', lines: 5000 }]).pipe(flatMapOnPool(pool, t.rows), toArray()));
    expect(many.map((r) => `${r.name}${r.i}`)).toEqual([...Array.from({ length: 5000 }, (_, i) => `x${i}`), ...Array.from({ length: 5000 }, (_, i) => `y${i}`)]);
  });

  test('ordered: false interleaves; ordered holds a later stream\'s values until the earlier one ends', async () => {
    await using gate = await openGate();
    for (const ordered of [false, true]) {
      // a is held at its start by the gate; b runs to its end meanwhile.
      const items = [
        { path: gate.path, key: `a-${ordered}`, values: ['a1', 'a2'] },
        { path: gate.path, key: `b-${ordered}`, values: ['b1', 'b2'] },
      ];
      const out: unknown[] = [];
      const done = new Promise<void>((resolve, reject) =>
        from(items).pipe(flatMapOnPool(pool, t.gatedValues, { ordered })).subscribe({ next: (v) => out.push(v), error: reject, complete: resolve }),
      );
      await gate.started(`b-${ordered}`);
      gate.release(`b-${ordered}`);
      await gate.started(`b-${ordered}:finally`); // b has ended (its values were sent before)
      if (ordered) expect(out).toEqual([]); // held for a, which has not yielded anything
      else await expect.poll(() => out.length).toBe(2); // emitted as they came, a still held
      gate.release(`a-${ordered}`);
      await done;
      expect(out).toEqual(ordered ? ['a1', 'a2', 'b1', 'b2'] : ['b1', 'b2', 'a1', 'a2']);
    }
  });

  test('bounded read-ahead: a later stream yields at most buffersize values while the head one runs, then its worker waits', async () => {
    await using gate = await openGate();
    // The head stream is held at its start; the later one counts, and reports at its 4th value.
    const items = [
      { path: gate.path, key: 'head', values: ['h'] },
      { path: gate.path, key: 'later', reportAt: 4 },
    ];
    const out: unknown[] = [];
    const live = from(items).pipe(flatMapOnPool(pool, t.headOrCounter, { buffersize: 4 })).subscribe((v) => out.push(v));
    await Promise.all([gate.started('head'), gate.started('later:4')]);
    live.unsubscribe(); // both are closed (the head once released): their finally blocks report
    gate.release('head');
    await Promise.all([gate.started('head:finally'), gate.started('later:finally')]);
    expect(out).toEqual([]);
    expect(reportOf(gate, 'later')!.produced).toBe(4); // its 4 credits, not one value more
  });

  test('concurrency bounds the streams in flight; unsubscribing cancels every one (finally runs) and the workers serve on', async () => {
    await using gate = await openGate();
    const items = ['s0', 's1', 's2', 's3'].map((key) => ({ path: gate.path, key, values: [key] }));
    await expect.poll(() => pool.stats.busy).toBe(0); // an earlier test's closes are answered
    const { cancelled, failed } = pool.stats;
    const live = from(items).pipe(flatMapOnPool(pool, t.gatedValues, { concurrency: 2 })).subscribe();
    await Promise.all([gate.started('s0'), gate.started('s1')]);
    // Both held at their start: no third stream was submitted (with three workers, it would run).
    expect(pool.stats).toMatchObject({ busy: 2, queued: 0 });
    live.unsubscribe();
    gate.release('s0'); // let them reach their next step, where they see the close
    gate.release('s1');
    await Promise.all([gate.started('s0:finally'), gate.started('s1:finally')]);
    expect(gate.log.filter((v) => v === 's2' || v === 's3')).toEqual([]);
    const after = await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool.submit(t.worker, [])));
    expect(after.length).toBe(6);
    expect([pool.stats.cancelled - cancelled, pool.stats.failed - failed]).toEqual([2, 0]); // closed, not crashed: no worker was replaced
  });

  test('an error mid-stream comes after every value before it; a crash is WorkerCrashedError after what was received', async () => {
    await using gate = await openGate();
    const failing = async function* (x: number) {
      yield x;
      yield x + 1;
      if (x === 10) throw new RangeError(`no ${x + 2}`);
      yield x + 2;
    };
    const seen: number[] = [];
    const error = await new Promise((resolve) =>
      from([0, 10, 20]).pipe(flatMapOnPool(pool, failing)).subscribe({ next: (v) => seen.push(v), error: resolve, complete: () => resolve(undefined) }),
    );
    expect(seen).toEqual([0, 1, 2, 10, 11]);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('no 12');

    const got: number[] = [];
    const crash = new Subject<{ path: string; key: string }>();
    const ended = new Promise((resolve) => crash.pipe(flatMapOnPool(pool, t.crashItem)).subscribe({ next: (v) => got.push(v), error: resolve }));
    crash.next({ path: gate.path, key: 'crash' });
    await gate.started('crash'); // it yielded 1, 2, 3 and is held
    gate.release('crash');
    const crashed = (await ended) as WorkerCrashedError;
    expect(crashed).toBeInstanceOf(WorkerCrashedError);
    expect(got).toEqual([1, 2, 3]);
  });

  test('firstValueFrom: taking one value closes the stream in its worker', async () => {
    await using gate = await openGate();
    await using single = make({ maxWorkers: 1 });
    expect(await firstValueFrom(from([{ path: gate.path, key: 'first' }]).pipe(flatMapOnPool(single, t.countForeverItem)))).toBe(1);
    const worker = await single.submit(t.worker, []); // runs once the close is done: one worker
    expect(reportOf(gate, 'first')!.worker).toBe(worker);
  });
});
