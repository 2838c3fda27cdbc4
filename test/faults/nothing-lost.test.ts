/**
 * Nothing lost, nothing duplicated. 10,000 tasks per runtime, submitted at once, with faults
 * injected into a random subset (seeded: FAULT_SEED replays a run); every task settles exactly
 * once, with its own result or its own error. Then the same through the operators, where the
 * per-item fault policy lives in the task: every input yields exactly one output, in order.
 *
 * The mix (per runtime): 6 `process.exit`, 6 uncaught async throws, 3 hangs past a 300 ms timeout
 * (each costs a worker, ~0.1–0.3 s to replace under vitest, so they are kept to a few dozen), and
 * about 10% cheap throws and 5% async rejections, which cost nothing but their error.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { mapOnProcesses, mapOnThreads } from '../../src/index.ts';
import { NOTHING_LEFT, pick, prng, runtimes, t, track, within } from './fixtures/harness.ts';
import type { ChaosJob, FaultKind } from './fixtures/tasks.ts';
import { HANG_TIMEOUT, verdict } from './fixtures/verdict.ts';

const N = 10_000;
const SEED = Number(process.env.FAULT_SEED ?? 20_251_125);
const CRASHES: readonly (readonly [FaultKind, number])[] = [
  ['exit', 6],
  ['async-throw', 6],
  ['hang', 3],
];
describe.each(runtimes)('$name', (rt) => {
  test(`${N.toLocaleString('en')} tasks, faults in a random subset: each settles exactly once, with its own result or its own error`, async () => {
    const seed = SEED + (rt.thread ? 0 : 1);
    const random = prng(seed);
    const kinds = new Array<FaultKind>(N).fill('ok');
    const crashAt = new Set<number>();
    for (const [kind, count] of CRASHES) for (const id of pick(random, N, count, crashAt)) kinds[id] = kind;
    for (let id = 0; id < N; id++) {
      if (kinds[id] !== 'ok') continue;
      const r = random();
      kinds[id] = r < 0.1 ? 'throw' : r < 0.15 ? 'reject' : 'ok';
    }

    using tracker = track();
    const pool = rt.make({ maxWorkers: 2 });
    const settled = new Uint16Array(N);
    const problems: string[] = [];
    const note = (id: number, error: unknown, value: unknown) => {
      settled[id]!++;
      const why = verdict(id, kinds[id]!, error, value);
      if (why) problems.push(why);
    };
    let batches = 0;
    let batchCallbacks = 0;
    const pending: Promise<void>[] = [];
    let allBatchesCalledBack: () => void = () => {};
    const batchesDone = new Promise<void>((resolve) => (allBatchesCalledBack = resolve));

    // Half through submit (one promise per task), half through runBatch (one callback per batch of
    // 1–3 tasks), interleaved at random; a task that costs its worker always travels alone.
    for (let id = 0; id < N; ) {
      const job = (i: number): ChaosJob => ({ id: i, kind: kinds[i]! });
      if (kinds[id] === 'hang' || random() < 0.5) {
        const i = id++;
        const options = kinds[i] === 'hang' ? { timeout: HANG_TIMEOUT } : undefined;
        pending.push(pool.submit(t.chaos, [job(i)], options).then((v) => note(i, undefined, v), (e: unknown) => note(i, e, undefined)));
        continue;
      }
      const ids = [id++];
      const size = crashAt.has(ids[0]!) ? 1 : 1 + Math.floor(random() * 3);
      while (ids.length < size && id < N && !crashAt.has(id)) ids.push(id++);
      batches++;
      let calls = 0;
      pool.runBatch(t.chaos, ids.map(job), (error, result) => {
        if (++calls > 1) problems.push(`batch ${ids.join(',')} called back ${calls} times`);
        ids.forEach((i, k) => (error ? note(i, error, undefined) : note(i, result!.errors?.[k], result!.values[k])));
        if (++batchCallbacks === batches) allBatchesCalledBack();
      });
    }

    const started = performance.now();
    await within(Promise.all([...pending, batchesDone]), 50_000, 'every task to settle');
    const ms = performance.now() - started;

    expect(problems.slice(0, 10)).toEqual([]);
    expect(settled.every((count) => count === 1)).toBe(true);
    const ok = kinds.filter((k) => k === 'ok').length;
    expect(pool.stats).toMatchObject({ completed: ok, failed: N - ok, queued: 0 });
    // A task that costs a worker costs exactly one: none ran twice.
    const crashes = CRASHES.reduce((sum, [, count]) => sum + count, 0);
    expect(tracker.created(rt.thread ? 'WORKER' : 'PROCESSWRAP')).toBeLessThanOrEqual(2 + crashes);
    await within(pool.shutdown(), 10_000, 'shutdown');
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
    console.log(
      `${rt.name}: ${N} tasks (seed ${seed}), ${N - ok} faults (${crashes} costing a worker), ${batches} batches, all settled once in ${Math.round(ms)} ms`,
    );
  }, 60_000);

  const operator = rt.thread ? mapOnThreads : mapOnProcesses;
  const operatorName = rt.thread ? 'mapOnThreads' : 'mapOnProcesses';
  const items = (seed: number) => {
    const random = prng(seed);
    return Array.from({ length: N }, (_, id) => ({ id, fail: random() < 0.1, spin: random() < 0.05 ? 20_000 : 0 }));
  };

  test(`through ${operatorName}, in order, per-item faults expressed in the task: every input yields exactly one output, in order`, async () => {
    const inputs = items(SEED + 2);
    using tracker = track();
    const outputs = await within(
      lastValueFrom(from(inputs).pipe(operator(t.guarded, { maxWorkers: 2, concurrency: 4, chunksize: 8 }), toArray())),
      30_000,
      'the stream to complete',
    );
    expect(outputs).toHaveLength(N);
    const wrong = outputs.flatMap((out, i) => {
      const input = inputs[i]!;
      const fine = out.id === i && ('error' in out ? input.fail && out.error === `bad item ${i}` : !input.fail && out.value === i * 2);
      return fine ? [] : [`output ${i}: ${JSON.stringify(out)} for input ${JSON.stringify(input)}`];
    });
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(outputs.filter((out) => 'error' in out)).toHaveLength(inputs.filter((input) => input.fail).length);
    expect(await tracker.settle()).toEqual(NOTHING_LEFT);
  }, 40_000);

  test(`through ${operatorName} unordered: every input yields exactly one output`, async () => {
    const inputs = items(SEED + 3);
    const outputs = await within(
      lastValueFrom(from(inputs).pipe(operator(t.guarded, { maxWorkers: 2, concurrency: 4, chunksize: 8, ordered: false }), toArray())),
      30_000,
      'the stream to complete',
    );
    const seen = new Uint16Array(N);
    for (const out of outputs) seen[out.id]!++;
    expect(outputs).toHaveLength(N);
    expect(seen.every((count) => count === 1)).toBe(true);
  }, 40_000);
});
