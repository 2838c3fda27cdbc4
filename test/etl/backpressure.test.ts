/**
 * A slow sink slows the reads: Readable → pool → Writable, with the Writable accepting only when
 * the test lets it. Bounded memory is asserted at every read (items read minus items the sink has
 * accepted never exceed the chain's buffers), and the blocked state is checked once the chain has
 * stopped moving.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { map } from 'rxjs';
import { ThreadPool, mapOnPool } from '../../src/index.ts';
import { mapStream, pipeThroughOperator } from '../../src/streams/index.ts';
import { GatedSink, quiet } from './helpers.ts';

const N = 10_000;
const SOURCE_HWM = 4;

/** Counts reads and the most items ever between source and sink. */
function countingSource(sink: GatedSink) {
  const state = { reads: 0, maxAhead: 0 };
  const readable = new Readable({
    objectMode: true,
    highWaterMark: SOURCE_HWM,
    read() {
      if (state.reads === N) return void this.push(null);
      state.reads++;
      state.maxAhead = Math.max(state.maxAhead, state.reads - sink.accepted);
      this.push(state.reads);
    },
  });
  return { readable, state };
}

const pool = new ThreadPool({ maxWorkers: 2 });
afterAll(() => pool.shutdown());
const idle = () => pool.stats.busy === 0 && pool.stats.queued === 0;
const double = (n: number) => n * 2;

describe('the pull path: pipeline(readable, mapStream(pool, fn), writable)', () => {
  test('a blocked sink stops the reads; released step by step, everything arrives in order', { timeout: 20_000 }, async () => {
    const buffersize = 16;
    // Source buffer + the item being read + map's read-ahead + the sink's buffer and the write it holds.
    const bound = SOURCE_HWM + 1 + buffersize + 2;
    const sink = new GatedSink();
    const { readable, state } = countingSource(sink);
    const done = pipeline(readable, mapStream(pool, double, { buffersize }), sink);

    await sink.blocked();
    await quiet(idle, () => state.reads);
    // Blocked: the chain filled its buffers and stopped, far short of the input.
    expect(state.reads).toBeGreaterThanOrEqual(buffersize);
    expect(state.reads).toBeLessThanOrEqual(bound);
    expect(sink.accepted).toBe(0);

    for (let step = 0; step < 3; step++) {
      const before = state.reads;
      sink.allow(100);
      await quiet(idle, () => state.reads);
      expect(sink.accepted).toBe(100 * (step + 1));
      expect(state.reads - sink.accepted).toBeLessThanOrEqual(bound);
      expect(state.reads).toBeGreaterThan(before);
    }

    sink.open();
    await done;
    expect(state.reads).toBe(N);
    expect(state.maxAhead).toBeLessThanOrEqual(bound);
    expect(sink.received).toEqual(Array.from({ length: N }, (_, i) => (i + 1) * 2));
  });
});

describe('the pull path with a live feed', () => {
  test('each record is dispatched as it is read: the first result is written while the feed waits for it', { timeout: 20_000 }, async () => {
    // A feed that sends its next record only once the sink has the previous result: a mapStream that
    // waited to fill a chunk or its read-ahead window (16 and 512 here) would never write anything.
    const written: number[] = [];
    let pushed = 0;
    let wrote: (() => void) | null = null;
    const feed = new Readable({
      objectMode: true,
      read() {
        if (pushed === 5) return void this.push(null);
        if (pushed === written.length) return void this.push(++pushed);
        wrote = () => this.push(++pushed); // the next record waits for the previous result
      },
    });
    const sink = new Writable({
      objectMode: true,
      write(value: number, _encoding, callback) {
        written.push(value);
        callback();
        const w = wrote;
        wrote = null;
        w?.();
      },
    });
    await pipeline(feed, mapStream(pool, double, { chunksize: 16, buffersize: 512 }), sink);
    expect(written).toEqual([2, 4, 6, 8, 10]);
  });
});

describe('the push path: pipeThroughOperator(readable, mapOnPool(...), writable)', () => {
  test('a blocked sink stops the reads at highWaterMark; then everything arrives in order', { timeout: 20_000 }, async () => {
    const highWaterMark = 8;
    // Source buffer + the item being read + the values in flight (in the operator or the sink).
    const bound = SOURCE_HWM + 1 + highWaterMark;
    const sink = new GatedSink();
    const { readable, state } = countingSource(sink);
    // The operator drops whatever exceeds its input buffer: none dropped shows the gate kept it under the bound.
    let dropped = 0;
    const done = pipeThroughOperator(
      readable,
      (n$) => n$.pipe(mapOnPool(pool, double, { concurrency: 2, maxBuffered: highWaterMark, overflow: 'drop-newest', onDrop: () => dropped++ }), map((n) => n)),
      sink,
      { highWaterMark },
    );

    await sink.blocked();
    await quiet(idle, () => state.reads);
    expect(state.reads).toBeGreaterThanOrEqual(highWaterMark);
    expect(state.reads).toBeLessThanOrEqual(bound);

    sink.allow(50);
    await quiet(idle, () => state.reads);
    expect(sink.accepted).toBe(50);
    expect(state.reads - sink.accepted).toBeLessThanOrEqual(bound);

    sink.open();
    await done;
    expect(dropped).toBe(0);
    expect(state.maxAhead).toBeLessThanOrEqual(bound);
    expect(sink.received).toEqual(Array.from({ length: N }, (_, i) => (i + 1) * 2));
    expect(sink.writableFinished).toBe(true);
  });

  test('a task error rejects, destroys both streams and leaves the shared pool usable', { timeout: 10_000 }, async () => {
    const sink = new GatedSink();
    sink.open();
    const { readable } = countingSource(sink);
    const failAt7 = (n: number) => {
      if (n === 7) throw new RangeError('seven');
      return n;
    };
    await expect(pipeThroughOperator(readable, (n$) => n$.pipe(mapOnPool(pool, failAt7)), sink)).rejects.toThrow('seven');
    expect(sink.received).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readable.destroyed).toBe(true);
    expect(sink.destroyed).toBe(true);
    expect(await pool.submit(double, [21])).toBe(42);
  });

  test('a sink error stops the reads and rejects with it', { timeout: 10_000 }, async () => {
    const sink = new GatedSink();
    const { readable, state } = countingSource(sink);
    const done = pipeThroughOperator(readable, (n$) => n$.pipe(mapOnPool(pool, double)), sink, { highWaterMark: 4 });
    await sink.blocked();
    sink.destroy(new Error('disk full'));
    await expect(done).rejects.toThrow('disk full');
    expect(readable.destroyed).toBe(true);
    expect(state.reads).toBeLessThan(N);
  });

  test('an aborted signal rejects with AbortError', { timeout: 10_000 }, async () => {
    const sink = new GatedSink();
    const { readable } = countingSource(sink);
    const controller = new AbortController();
    const done = pipeThroughOperator(readable, (n$) => n$.pipe(mapOnPool(pool, double)), sink, { signal: controller.signal });
    await sink.blocked();
    controller.abort(new Error('stop'));
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(readable.destroyed).toBe(true);
  });

  test('with end: false the sink stays open', { timeout: 10_000 }, async () => {
    const sink = new GatedSink();
    sink.open();
    await pipeThroughOperator([1, 2, 3], (n$) => n$.pipe(mapOnPool(pool, double)), sink, { end: false });
    expect(sink.received).toEqual([2, 4, 6]);
    expect(sink.writableEnded).toBe(false);
    sink.end();
  });

  test('bad arguments throw at once', () => {
    const sink = new GatedSink();
    expect(() => pipeThroughOperator(42 as never, (x) => x, sink)).toThrow(/iterable/);
    expect(() => pipeThroughOperator([], 'op' as never, sink)).toThrow(/operator/);
    expect(() => pipeThroughOperator([], (x) => x, {} as never)).toThrow(/Writable/);
    expect(() => pipeThroughOperator([], (x) => x, sink, { highWaterMark: 0 })).toThrow(/highWaterMark/);
  });
});
