/**
 * Runs every scenario in marbles/ two ways.
 *
 * 1. Virtual time: `mapOnPool` over a VirtualPool under TestScheduler, asserting the output marble,
 *    the source subscription marble, the error, the drops and the peak concurrency.
 * 2. A real ThreadPool, replaying the virtual run step by step: the source values (and its error or
 *    completion) are pushed through a Subject, and each batch's answer from the real pool is held
 *    back until the step where the virtual batch settled. So the operator sees exactly the virtual
 *    order of events, while the tasks really run on worker threads (by source, errors serialised),
 *    and the run must give the same batches, the same value sequence and the same end. No sleeps:
 *    the only waiting is for the real pool's answers.
 */
import { fileURLToPath } from 'node:url';
import { Subject, type Subscription } from 'rxjs';
import { afterAll, describe, expect, test } from 'vitest';
import { compileFn, describeError, errorFrom, loadScenarios, optionsOf, runVirtual, type Outcome, type Scenario } from '../marbles/scenario.ts';
import { mapOnPool } from '../src/operators/mapOnPool.ts';
import type { BatchCallback, BatchResult, Cancel, Pool, Task } from '../src/pools/Pool.ts';
import { ThreadPool } from '../src/pools/index.ts';

const scenarios = loadScenarios(fileURLToPath(new URL('../marbles/', import.meta.url)));

/** TestScheduler comparison where an error is compared as `Name: message` (`…` = prefix). */
function compareWithErrors(actual: unknown, expected: unknown): void {
  const errorsOf = (messages: unknown) =>
    Array.isArray(messages)
      ? messages.map((m) =>
          m?.notification?.kind === 'E' ? { ...m, notification: { ...m.notification, error: describeError(m.notification.error) } } : m,
        )
      : messages;
  const a = errorsOf(actual) as { notification?: { kind: string; error?: string } }[];
  const e = Array.isArray(expected)
    ? expected.map((m) => (m?.notification?.kind === 'E' ? { ...m, notification: { ...m.notification, error: String(m.notification.error) } } : m))
    : expected;
  if (Array.isArray(a) && Array.isArray(e)) {
    for (const [i, m] of a.entries()) {
      const want = (e[i] as typeof m | undefined)?.notification?.error;
      if (m?.notification?.kind === 'E' && want?.endsWith('…') && m.notification.error?.startsWith(want.slice(0, -1))) {
        m.notification.error = want;
      }
    }
  }
  expect(a).toEqual(e);
}

test('there are scenarios for every required case', () => {
  const names = scenarios.map((s) => s.name);
  for (const required of [
    'ordered-slow-head',
    'unordered',
    'concurrency-1',
    'concurrency-2',
    'concurrency-3',
    'error-in-middle',
    'source-error',
    'early-unsubscribe',
    'empty-source',
    'sync-source',
    'overflow-error',
    'overflow-drop-oldest',
    'overflow-drop-newest',
  ]) {
    expect(names).toContain(required);
  }
});

describe('marbles/ in virtual time (VirtualPool)', () => {
  for (const scenario of scenarios) {
    test(`${scenario.name}: ${scenario.title}`, () => {
      const run = runVirtual(scenario, compareWithErrors, ({ expectObservable, expectSubscriptions }, result, source) => {
        expectObservable(result, scenario.unsub).toBe(scenario.output, scenario.outputs, scenario.error);
        expectSubscriptions(source.subscriptions).toBe(scenario.subs);
      });
      expect(run.outcome.dropped).toEqual(scenario.dropped ?? []);
      if (scenario.peak !== undefined) expect(run.peakRunning).toBe(scenario.peak);
      // Never more than `concurrency` batches of this subscription running, whatever the file says.
      const concurrency = (scenario.options.concurrency as number | undefined) ?? scenario.maxWorkers;
      expect(run.peakRunning).toBeLessThanOrEqual(concurrency);
    });
  }
});

/**
 * A Pool over a real pool whose answers are delivered only when the test says so. Batches are
 * submitted to the real pool at once (so they really run concurrently); their callbacks wait.
 */
class GatedPool implements Pool {
  readonly batches: unknown[][] = [];
  readonly #answers: Promise<{ callback: BatchCallback<unknown>; error: Error | undefined; result: BatchResult<unknown> | undefined }>[] = [];
  readonly #cancelled = new Set<number>();
  constructor(
    readonly pool: Pool,
    readonly maxWorkers: number,
  ) {}

  runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>): Cancel {
    const batch = this.batches.length;
    this.batches.push([...items]);
    let cancel!: Cancel;
    this.#answers.push(
      new Promise((resolve) => {
        cancel = this.pool.runBatch<T, R>(fn, items, (error, result) =>
          resolve({ callback: callback as BatchCallback<unknown>, error, result: result as BatchResult<unknown> | undefined }),
        );
      }),
    );
    return (reason) => {
      this.#cancelled.add(batch);
      cancel(reason);
    };
  }

  /** Waits for the real answer of `batch`, then hands it to the operator. */
  async deliver(batch: number): Promise<void> {
    const answer = this.#answers[batch];
    if (answer === undefined) throw new Error(`replay diverged: batch ${batch} settled in virtual time but was never submitted here`);
    if (this.#cancelled.has(batch)) throw new Error(`replay diverged: batch ${batch} settled in virtual time but was cancelled here`);
    const { callback, error, result } = await answer;
    callback(error, result);
  }
}

describe('marbles/ on a real ThreadPool (same steps, same sequence)', () => {
  const threads = new ThreadPool({ maxWorkers: 2 });
  afterAll(() => threads.shutdown({ wait: true, cancelPending: true }));

  async function replay(scenario: Scenario): Promise<{ outcome: Outcome; batches: unknown[][] }> {
    const virtual = runVirtual(scenario);
    const before = threads.stats.completed + threads.stats.failed + threads.stats.cancelled;
    const gated = new GatedPool(threads, scenario.maxWorkers);
    const outcome: Outcome = { values: [], end: undefined, dropped: [] };
    const source = new Subject<unknown>();
    let subscription: Subscription | undefined = source.pipe(mapOnPool(gated, compileFn(scenario), optionsOf(scenario, outcome.dropped))).subscribe({
      next: (value) => outcome.values.push(value),
      error: (error: unknown) => (outcome.end = { error: describeError(error) }),
      complete: () => (outcome.end = { complete: true }),
    });
    for (const step of virtual.steps) {
      if (step.kind === 'settle') await gated.deliver(step.batch);
      else if (step.kind === 'unsubscribe') subscription?.unsubscribe();
      else if (step.notification.kind === 'N') source.next(step.notification.value);
      else if (step.notification.kind === 'E') source.error(errorFrom(scenario.sourceError!));
      else source.complete();
    }
    subscription = undefined;
    expect(gated.batches).toEqual(virtual.batches);
    // Every item submitted really went through the ThreadPool (answered, or cancelled there).
    const items = gated.batches.reduce((n, batch) => n + batch.length, 0);
    expect(threads.stats.completed + threads.stats.failed + threads.stats.cancelled - before).toBe(items);
    expect(outcome).toEqual(virtual.outcome);
    return { outcome, batches: gated.batches };
  }

  for (const scenario of scenarios) {
    test(`${scenario.name}`, { timeout: 10_000 }, async () => {
      const { outcome } = await replay(scenario);
      // And the sequence is the file's: the output letters' values, then its end.
      const letters = scenario.output.replace(/[^A-Za-z]/g, '').split('');
      expect(outcome.values).toEqual(letters.map((l) => scenario.outputs[l]));
      if (scenario.error !== undefined) {
        expect(outcome.end).toMatchObject({ error: expect.stringMatching(/./) });
        const { error } = outcome.end as { error: string };
        const want = scenario.error.endsWith('…') ? scenario.error.slice(0, -1) : scenario.error;
        expect(scenario.error.endsWith('…') ? error.startsWith(want) : error === want).toBe(true);
      } else if (scenario.output.includes('|')) {
        expect(outcome.end).toEqual({ complete: true });
      } else {
        expect(outcome.end).toBeUndefined();
      }
      expect(outcome.dropped).toEqual(scenario.dropped ?? []);
    });
  }
});
