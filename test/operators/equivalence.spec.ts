/**
 * VirtualPool makes mapOnPool exact to the frame. On generated sources (seeded, so every run is the
 * same) under TestScheduler:
 *   mapOnPool(vp, fn, { concurrency: 1 })            ≡ concatMap(x => timer(d(x)).pipe(map(() => fn(x))))
 *   mapOnPool(vp, fn, { concurrency: c, ordered: false }) ≡ mergeMap(same, c)
 * compared on output messages (frames included), source subscription marbles, and when each task
 * ran (the VirtualPool's start/end frames against the subscription frames of each inner timer).
 * The generated sources mix gaps, synchronous groups, zero durations, a task that throws, source
 * errors, sources that never end, and early unsubscription.
 */
import { concatMap, defer, finalize, map, mergeMap, timer, type Observable, type ObservableNotification } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect, test } from 'vitest';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import { VirtualPool } from '../../src/testing/index.ts';
import { prng } from '../fixtures/prng.ts';


interface Case {
  marble: string;
  durations: Record<string, number>;
  failing: string | undefined;
  unsubscribeAt: number | undefined;
  concurrency: number;
}

const LETTERS = 'abcdefghijklmnop';

function generate(seed: number): Case {
  const random = prng(seed);
  const count = 3 + Math.floor(random() * 12);
  let marble = '';
  for (let i = 0; i < count; ) {
    const r = random();
    if (r < 0.35) marble += '-'.repeat(1 + Math.floor(random() * 3));
    else if (r < 0.5 && i + 2 < count) {
      marble += `(${LETTERS.slice(i, i + 3)})`;
      i += 3;
    } else marble += LETTERS[i++];
  }
  const end = random();
  marble += end < 0.7 ? '|' : end < 0.85 ? '#' : ''; // complete, error, or never
  const durations = Object.fromEntries([...LETTERS].map((l) => [l, random() < 0.15 ? 0 : Math.floor(random() * 9)]));
  const failing = random() < 0.25 ? LETTERS[Math.floor(random() * count)] : undefined;
  const unsubscribeAt = random() < 0.25 ? 1 + Math.floor(random() * 25) : undefined;
  return { marble, durations, failing, unsubscribeAt, concurrency: 1 + Math.floor(random() * 4) };
}

type Recorded = { frame: number; notification: ObservableNotification<unknown> }[];

/** Subscribes at frame 0, unsubscribes at `unsubscribeAt`, records what arrives with its frame. */
function record(scheduler: TestScheduler, observable: Observable<unknown>, unsubscribeAt: number | undefined): Recorded {
  const out: Recorded = [];
  const subscription = observable.subscribe({
    next: (value) => out.push({ frame: scheduler.now(), notification: { kind: 'N', value } }),
    error: (error: unknown) => out.push({ frame: scheduler.now(), notification: { kind: 'E', error } }),
    complete: () => out.push({ frame: scheduler.now(), notification: { kind: 'C' } }),
  });
  if (unsubscribeAt !== undefined) scheduler.schedule(() => subscription.unsubscribe(), unsubscribeAt);
  return out;
}

function compare(seed: number, mode: 'concatMap' | 'mergeMap'): void {
  const c = generate(seed);
  const concurrency = mode === 'concatMap' ? 1 : c.concurrency;
  const context = `seed ${seed}: ${JSON.stringify(c)}`;
  const scheduler = new TestScheduler((a, b) => expect(a, context).toEqual(b));
  scheduler.run(({ cold, flush }) => {
    const error = new Error('source failed');
    const values = Object.fromEntries([...LETTERS].map((l) => [l, l]));
    const duration = (x: string) => c.durations[x]!;
    const fn = (x: string) => {
      if (x === c.failing) throw new Error(`task failed on ${x}`);
      return x.toUpperCase();
    };

    const viaPool = cold(c.marble, values, error);
    const pool = new VirtualPool({ maxWorkers: concurrency, duration });
    const actual = record(
      scheduler,
      viaPool.pipe(mapOnPool(pool, fn, mode === 'concatMap' ? { concurrency: 1 } : { concurrency, ordered: false })),
      c.unsubscribeAt,
    );

    const viaTimers = cold(c.marble, values, error);
    const spans: { item: string; start: number; end: number | undefined }[] = [];
    const project = (x: string) =>
      defer(() => {
        const span = { item: x, start: scheduler.now(), end: undefined as number | undefined };
        spans.push(span);
        return timer(duration(x)).pipe(
          map(() => fn(x)),
          finalize(() => (span.end = scheduler.now())),
        );
      });
    const expected = record(
      scheduler,
      viaTimers.pipe(mode === 'concatMap' ? concatMap(project) : mergeMap(project, concurrency)),
      c.unsubscribeAt,
    );

    flush();
    expect(actual, context).toEqual(expected);
    expect(viaPool.subscriptions, context).toEqual(viaTimers.subscriptions);
    // Each task ran exactly when its inner timer did: same items, same start, same end or cancel.
    expect(
      pool.log.map((b) => ({ item: b.items[0], start: b.startedAt, end: b.endedAt })),
      context,
    ).toEqual(spans);
    expect(pool.peakRunning, context).toBeLessThanOrEqual(concurrency);
  });
}

const SEEDS = Array.from({ length: 150 }, (_, i) => i + 1);

test('concurrency 1 emits exactly what concatMap(timer(duration) → fn) emits (150 generated sources)', () => {
  for (const seed of SEEDS) compare(seed, 'concatMap');
});

test('ordered: false emits exactly what mergeMap(timer(duration) → fn, concurrency) emits (150 generated sources)', () => {
  for (const seed of SEEDS) compare(seed, 'mergeMap');
});

test('the generated cases cover what they claim to', () => {
  const cases = SEEDS.map(generate);
  expect(cases.some((c) => c.marble.endsWith('#'))).toBe(true);
  expect(cases.some((c) => !/[|#]$/.test(c.marble))).toBe(true);
  expect(cases.some((c) => c.marble.includes('('))).toBe(true);
  expect(cases.some((c) => c.failing !== undefined)).toBe(true);
  expect(cases.some((c) => c.unsubscribeAt !== undefined)).toBe(true);
  expect(cases.some((c) => Object.values(c.durations).includes(0))).toBe(true);
  expect(new Set(cases.map((c) => c.concurrency)).size).toBe(4);
});
