/**
 * Soak: both runtimes under full load for N minutes, through submit, map and the operators, with
 * random faults; RSS sampled every second; at the end a report and a verdict.
 *
 *   npm run soak -- --minutes N [--seed S] [--tolerance-mb X] [--leak-mb-per-minute L]
 *
 * Two lanes run at once, one per runtime, each cycling through rounds on a long-lived shared pool
 * (maxWorkers 2) and on per-subscription pools of the operators:
 *   submit     2,000 chaos tasks: ~5% throw, ~3% reject, and one fault that costs a worker
 *              (process.exit, an uncaught async throw, or a hang past a 300 ms timeout)
 *   map        pool.map over 2,000 items, random chunksize (or 'auto'), ~10% error records (fault policy in the task)
 *   operator   mapOnThreads / mapOnProcesses over 2,000 items, random chunksize (or 'auto'), ~10% error records
 *   crash      a process.exit inside an operator stream: the stream errors with WorkerCrashedError after the
 *              results before the crash's batch (one item a batch, or the default 'auto')
 *              after emitting exactly the results before it
 *   unsubscribe  mapOnPool on the shared pool over interval(0), cut by take(50) with tasks in flight
 *   overflow   a 5,000-value synchronous burst into mapOnPool with maxBuffered 64 and a drop policy
 *   cancel     a burst of cancellations: 300 tasks sharing one AbortSignal, aborted once a few have run
 *              (every task settles once: its own result or AbortError); then a map loop over 2,000
 *              items left after 10 (what is pending is cancelled in one pass)
 *   sigkill    (processes) a child killed from outside while it runs a task
 *   parent-death  (processes) a parent — a user script with a ProcessPool and the CLI with
 *              --processes 2 by turns — whose two children spin in synchronous code is killed once
 *              they have reported in, by SIGTERM, SIGINT, SIGHUP, SIGKILL and an uncaught exception
 *              in turn (ten rounds cover every pairing); both children must be gone within 5 s
 * Every task and item is checked: it settles once, with its own result or its own error.
 *
 * Exit code 0 when nothing was lost or wrong, every fault was survived, no worker is left, and RSS
 * stayed flat (see scripts/rss-verdict.ts for the definition); 1 otherwise. The last line printed
 * is `SOAK_RESULT {json}` for tools (the CI test reads it).
 */
import { parseArgs } from 'node:util';
import { from, interval, lastValueFrom, map, range, take, toArray, type Observable } from 'rxjs';
import {
  AbortError,
  WorkerCrashedError,
  mapOnPool,
  mapOnProcesses,
  mapOnThreads,
  ProcessPool,
  ThreadPool,
  task,
  type WorkerPool,
} from '../src/index.ts';
import { DEATHS, diedAsTold, kill, reap, startDoomed, untilGone, type ParentKind } from '../test/faults/fixtures/doomed.ts';
import { childPids, describeChild, esbuildZombies, openRendezvous, prng, type Rendezvous } from '../test/faults/fixtures/harness.ts';
import type * as Tasks from '../test/faults/fixtures/tasks.ts';
import { verdict } from '../test/faults/fixtures/verdict.ts';
import { rssVerdict, type RssVerdict } from './rss-verdict.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    seed: { type: 'string' },
    'tolerance-mb': { type: 'string', default: '32' },
    'leak-mb-per-minute': { type: 'string', default: '0' },
  },
});
const minutes = Number(args.minutes);
if (!(minutes > 0)) throw new TypeError(`Expected --minutes to be a number above 0, got ${JSON.stringify(args.minutes)}`);
const seed = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
const toleranceMb = Number(args['tolerance-mb']);
const leakMbPerMinute = Number(args['leak-mb-per-minute']);

const tasksUrl = new URL('../test/faults/fixtures/tasks.ts', import.meta.url);
const chaos = task<typeof Tasks.chaos>(tasksUrl, 'chaos');
const guarded = task<typeof Tasks.guarded>(tasksUrl, 'guarded');
const helloThenPend = task<typeof Tasks.helloThenPend>(tasksUrl, 'helloThenPend');
const echo = task<typeof Tasks.echo>(tasksUrl, 'echo');

const HANG_TIMEOUT = 300;
const ROUND_DEADLINE = 60_000;
/** A parent's children must be gone this soon after it died (the watchdog looks every 500 ms). */
const ORPHANS_GONE_WITHIN = 5_000;
/** A parent's children must have reported in this soon (within the round's deadline). */
const PARENT_DEADLINE = ROUND_DEADLINE - ORPHANS_GONE_WITHIN - 5_000;
type FaultName = 'throw' | 'reject' | 'exit' | 'async-throw' | 'hang' | 'error-record' | 'stream-crash' | 'unsubscribe' | 'cancel-burst' | 'sigkill' | 'parent-death';

const report = {
  seed,
  minutes,
  injected: {} as Record<FaultName, number>,
  survived: {} as Record<FaultName, number>,
  itemsChecked: 0,
  dropped: 0,
  rounds: {} as Record<string, number>,
  /** Parent-death rounds by `<script|cli> <how>`, and the slowest time until every child was gone. */
  parentDeaths: {} as Record<string, number>,
  slowestOrphanMs: 0,
  orphansLeft: 0,
  problems: [] as string[],
  problemCount: 0,
};

function problem(text: string): void {
  report.problemCount++;
  if (report.problems.length < 20) report.problems.push(text);
}

/** Records faults of a round; they count as survived only if the round checked out. */
function faults(names: readonly FaultName[], survived: boolean): void {
  for (const name of names) {
    report.injected[name] = (report.injected[name] ?? 0) + 1;
    if (survived) report.survived[name] = (report.survived[name] ?? 0) + 1;
  }
}

function deadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ROUND_DEADLINE} ms: tasks lost or a hang`)), ROUND_DEADLINE);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Lane {
  readonly name: 'threads' | 'processes';
  readonly pool: WorkerPool;
  readonly operator: typeof mapOnThreads;
  readonly random: () => number;
  readonly rv: Rendezvous;
}

// ── rounds ──────────────────────────────────────────────────────────────────────────────────────

async function submitRound(lane: Lane): Promise<void> {
  const n = 2_000;
  const kinds: Tasks.FaultKind[] = Array.from({ length: n }, () => {
    const r = lane.random();
    return r < 0.05 ? 'throw' : r < 0.08 ? 'reject' : 'ok';
  });
  const costly = (['exit', 'async-throw', 'hang'] as const)[Math.floor(lane.random() * 3)]!;
  kinds[Math.floor(lane.random() * n)] = costly;
  let bad = 0;
  const settled = new Uint8Array(n);
  await Promise.all(
    kinds.map((kind, id) =>
      lane.pool
        .submit(chaos, [{ id, kind }], kind === 'hang' ? { timeout: HANG_TIMEOUT } : undefined)
        .then(
          (value) => [undefined, value] as const,
          (error: unknown) => [error, undefined] as const,
        )
        .then(([error, value]) => {
          settled[id]!++;
          const why = verdict(id, kind, error, value, HANG_TIMEOUT);
          if (why) {
            bad++;
            problem(`${lane.name} submit: ${why}`);
          }
        }),
    ),
  );
  if (settled.some((count) => count !== 1)) {
    bad++;
    problem(`${lane.name} submit: a task settled other than once`);
  }
  report.itemsChecked += n;
  faults(kinds.filter((k): k is Exclude<Tasks.FaultKind, 'ok'> => k !== 'ok'), bad === 0);
}

function guardedItems(random: () => number, n: number): { id: number; fail: boolean; spin: number }[] {
  return Array.from({ length: n }, (_, id) => ({ id, fail: random() < 0.1, spin: random() < 0.02 ? 20_000 : 0 }));
}

/** Checks outputs of `guarded` against their inputs, in order; returns how many were wrong. */
function checkGuarded(where: string, inputs: ReturnType<typeof guardedItems>, outputs: readonly Tasks.Outcome[]): number {
  let bad = 0;
  if (outputs.length !== inputs.length) {
    bad++;
    problem(`${where}: ${outputs.length} outputs for ${inputs.length} inputs`);
  }
  outputs.forEach((out, i) => {
    const input = inputs[i];
    const fine = input && out.id === i && ('error' in out ? input.fail && out.error === `bad item ${i}` : !input.fail && out.value === i * 2);
    if (!fine) {
      bad++;
      problem(`${where}: output ${i} is ${JSON.stringify(out)}`);
    }
  });
  report.itemsChecked += outputs.length;
  return bad;
}

async function mapRound(lane: Lane): Promise<void> {
  const inputs = guardedItems(lane.random, 2_000);
  const outputs: Tasks.Outcome[] = [];
  const chunksize = lane.random() < 0.25 ? 'auto' : 1 + Math.floor(lane.random() * 32);
  for await (const out of lane.pool.map(guarded, inputs, { chunksize })) outputs.push(out);
  const bad = checkGuarded(`${lane.name} map`, inputs, outputs);
  faults(inputs.filter((input) => input.fail).map(() => 'error-record'), bad === 0);
}

async function operatorRound(lane: Lane): Promise<void> {
  const inputs = guardedItems(lane.random, 2_000);
  const chunksize = lane.random() < 0.25 ? 'auto' : 1 + Math.floor(lane.random() * 16);
  const outputs = await lastValueFrom(from(inputs).pipe(lane.operator(guarded, { maxWorkers: 2, chunksize }), toArray()));
  const bad = checkGuarded(`${lane.name} operator`, inputs, outputs);
  faults(inputs.filter((input) => input.fail).map(() => 'error-record'), bad === 0);
}

async function crashRound(lane: Lane): Promise<void> {
  const n = 200;
  const at = Math.floor(lane.random() * n);
  // One item per batch, or the default ('auto'): then a crash fails the whole batch it hit.
  const perItem = lane.random() < 0.5;
  const seen: number[] = [];
  const error = await lastValueFrom(
    range(0, n).pipe(
      map((id): Tasks.ChaosJob => ({ id, kind: id === at ? 'exit' : 'ok' })),
      lane.operator(chaos, perItem ? { maxWorkers: 2, chunksize: 1 } : { maxWorkers: 2 }),
      map((out) => seen.push(out.id)),
    ),
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  // Ordered: every result before the crash's batch is emitted, then the crash's error, nothing
  // after (one item a batch: exactly the results before the crash).
  const inOrder = seen.every((id, i) => id === i);
  const fine = error instanceof WorkerCrashedError && inOrder && (perItem ? seen.length === at : seen.length <= at);
  if (!fine) {
    const expected = perItem ? `${at}` : `at most ${at}`;
    problem(`${lane.name} crash: expected ${expected} results then WorkerCrashedError, got ${seen.length} then ${String(error)}`);
  }
  report.itemsChecked += seen.length + 1;
  faults(['stream-crash'], fine);
}

async function unsubscribeRound(lane: Lane): Promise<void> {
  const outputs = await lastValueFrom(
    interval(0).pipe(
      map((id): Tasks.ChaosJob => ({ id, kind: 'ok' })),
      mapOnPool(lane.pool, chaos, { concurrency: 2 }),
      take(50),
      toArray(),
    ),
  );
  const fine = outputs.length === 50 && outputs.every((out, i) => out.id === i);
  if (!fine) problem(`${lane.name} unsubscribe: got ${JSON.stringify(outputs.map((o) => o.id))}`);
  report.itemsChecked += outputs.length;
  faults(['unsubscribe'], fine);
}

async function overflowRound(lane: Lane): Promise<void> {
  const n = 5_000;
  const overflow = lane.random() < 0.5 ? 'drop-oldest' : 'drop-newest';
  let dropped = 0;
  const outputs = await lastValueFrom(
    (range(0, n) as Observable<number>).pipe(
      map((id): Tasks.ChaosJob => ({ id, kind: 'ok' })),
      mapOnPool(lane.pool, chaos, { concurrency: 2, maxBuffered: 64, overflow, onDrop: () => void dropped++ }),
      toArray(),
    ),
  );
  const ordered = outputs.every((out, i) => i === 0 || out.id > outputs[i - 1]!.id);
  if (outputs.length + dropped !== n || !ordered || dropped === 0) {
    problem(`${lane.name} overflow ${overflow}: ${outputs.length} out + ${dropped} dropped of ${n}, ordered ${ordered}`);
  }
  report.itemsChecked += n;
  report.dropped += dropped;
}

async function cancelRound(lane: Lane): Promise<void> {
  const n = 300;
  const controller = new AbortController();
  const settled = Array.from({ length: n }, (_, id) =>
    lane.pool.submit(chaos, [{ id, kind: 'ok' }], { signal: controller.signal }).then(
      (out) => ({ id, out, error: undefined }),
      (error: unknown) => ({ id, out: undefined, error }),
    ),
  );
  await settled[4];
  controller.abort(new Error('soak: cancel burst'));
  let fine = true;
  for (const { id, out, error } of await Promise.all(settled)) {
    if (out ? out.id !== id : !(error instanceof AbortError)) {
      fine = false;
      problem(`${lane.name} cancel: task ${id} settled with ${out ? JSON.stringify(out) : String(error)}`);
    }
  }
  let seen = 0;
  const inputs = Array.from({ length: 2_000 }, (_, id): Tasks.ChaosJob => ({ id, kind: 'ok' }));
  for await (const out of lane.pool.map(chaos, inputs)) {
    if (out.id !== seen) fine = false;
    if (++seen === 10) break;
  }
  if (seen !== 10) fine = false;
  report.itemsChecked += n + seen;
  faults(['cancel-burst'], fine);
}

async function sigkillRound(lane: Lane): Promise<void> {
  const key = `victim-${performance.now()}`;
  const running = lane.pool.submit(helloThenPend, [lane.rv.path, key]).then(
    () => undefined,
    (e: unknown) => e,
  );
  const { pid } = await lane.rv.started(key);
  process.kill(pid, 'SIGKILL');
  const error = await running;
  const fine = error instanceof WorkerCrashedError && error.signal === 'SIGKILL';
  if (!fine) problem(`${lane.name} sigkill: expected WorkerCrashedError by SIGKILL, got ${String(error)}`);
  report.itemsChecked += 1;
  faults(['sigkill'], fine);
}

async function runLane(lane: Lane, end: number): Promise<void> {
  const rounds: [string, (lane: Lane) => Promise<void>][] = [
    ['submit', submitRound],
    ['map', mapRound],
    ['operator', operatorRound],
    ['crash', crashRound],
    ['unsubscribe', unsubscribeRound],
    ['overflow', overflowRound],
    ['cancel', cancelRound],
  ];
  // Parent death last: a parent under tsx and two children start each time, the costliest round.
  if (lane.name === 'processes') rounds.push(['sigkill', sigkillRound], ['parent-death', parentDeathRound]);
  for (let i = 0; performance.now() < end; i++) {
    const [name, round] = rounds[i % rounds.length]!;
    try {
      await deadline(round(lane), `${lane.name} ${name} round`);
      report.rounds[`${lane.name} ${name}`] = (report.rounds[`${lane.name} ${name}`] ?? 0) + 1;
    } catch (error) {
      problem(`${lane.name} ${name}: ${(error as Error).stack ?? String(error)}`);
    }
  }
}

/** Parent death: a parent whose children spin, killed one way; both children must be gone. */
async function parentDeath(rv: Rendezvous, kind: ParentKind, how: (typeof DEATHS)[number], prefix: string): Promise<void> {
  const doomed = await startDoomed(kind, rv, prefix, 2, PARENT_DEADLINE);
  try {
    const exit = await kill(doomed, how);
    const gone = await untilGone(doomed.pids, ORPHANS_GONE_WITHIN);
    const died = diedAsTold(how, exit, doomed.stderr());
    if (!died) problem(`parent death: the ${kind} parent did not die of ${how}: ${JSON.stringify(exit)} ${doomed.stderr().slice(-500)}`);
    if (gone.left.length > 0) problem(`parent death: ${kind} killed by ${how}: children still running ${ORPHANS_GONE_WITHIN} ms later: ${gone.left.join('; ')}`);
    report.orphansLeft += gone.left.length;
    report.slowestOrphanMs = Math.max(report.slowestOrphanMs, Math.round(gone.ms));
    report.parentDeaths[`${kind} ${how}`] = (report.parentDeaths[`${kind} ${how}`] ?? 0) + 1;
    faults(['parent-death'], died && gone.left.length === 0);
  } finally {
    reap(doomed.pids);
  }
}

let parentRounds = 0;

/** One parent per round, the way of dying and the kind of parent taken in turn. */
function parentDeathRound(lane: Lane): Promise<void> {
  const i = parentRounds++;
  return parentDeath(lane.rv, i % 2 === 0 ? 'script' : 'cli', DEATHS[i % DEATHS.length]!, `parent-${i}`);
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const started = performance.now();
  const end = started + minutes * 60_000;
  const samples: number[] = [process.memoryUsage.rss()];
  const leak: Buffer[] = [];
  const sampler = setInterval(() => {
    samples.push(process.memoryUsage.rss());
    // --leak-mb-per-minute: retain memory on purpose, to show that the verdict catches a leak.
    if (leakMbPerMinute > 0) leak.push(Buffer.alloc(Math.round((leakMbPerMinute * 1024 * 1024) / 60), 1));
  }, 1_000);
  const progress = setInterval(() => {
    const elapsed = Math.round((performance.now() - started) / 1000);
    const injected = Object.values(report.injected).reduce((a, b) => a + b, 0);
    console.error(`  ${elapsed}s: ${report.itemsChecked.toLocaleString('en')} items checked, ${injected} faults, RSS ${Math.round(samples.at(-1)! / 2 ** 20)} MiB`);
  }, 10_000);
  progress.unref();

  const random = prng(seed);
  const laneSeed = () => Math.floor(random() * 2 ** 31);
  const threads: Lane = {
    name: 'threads',
    pool: new ThreadPool({ maxWorkers: 2 }),
    operator: mapOnThreads,
    random: prng(laneSeed()),
    rv: await openRendezvous(),
  };
  const processes: Lane = {
    name: 'processes',
    pool: new ProcessPool({ maxWorkers: 2 }),
    operator: mapOnProcesses as typeof mapOnThreads,
    random: prng(laneSeed()),
    rv: await openRendezvous(),
  };
  console.error(`soak: ${minutes} min, seed ${seed}, both runtimes at once`);
  await Promise.all([runLane(threads, end), runLane(processes, end)]);
  clearInterval(sampler);
  clearInterval(progress);
  samples.push(process.memoryUsage.rss());
  leak.length = 0;

  // Both shared pools still serve after everything they went through, then shut down fully.
  for (const lane of [threads, processes]) {
    const value = `${lane.name} still serving`;
    const got = await deadline(lane.pool.submit(echo, [value]), `${lane.name} final task`).catch((e: unknown) => e);
    if (got !== value) problem(`${lane.name}: the shared pool did not serve a final task: ${String(got)}`);
    await deadline(lane.pool.shutdown(), `${lane.name} shutdown`);
    await lane.rv[Symbol.asyncDispose]();
  }
  const until = performance.now() + 5_000;
  while (childPids().length > 0 && performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
  const leftChildren = childPids().length;
  if (leftChildren > 0) problem(`${leftChildren} child processes still there 5 s after shutdown: ${childPids().map(describeChild).join('; ')}`);

  const rss: RssVerdict = rssVerdict(samples, toleranceMb);
  const injected = Object.values(report.injected).reduce((a, b) => a + b, 0);
  const survived = Object.values(report.survived).reduce((a, b) => a + b, 0);
  const ok = report.problemCount === 0 && injected === survived && rss.flat;
  const result = { ...report, faultsInjected: injected, faultsSurvived: survived, leftChildren, rss, seconds: Math.round((performance.now() - started) / 1000), ok };

  const rows = Object.keys(report.injected).map((k) => `    ${k.padEnd(14)} ${String(report.injected[k as FaultName]).padStart(6)} injected, ${String(report.survived[k as FaultName] ?? 0).padStart(6)} survived`);
  console.log(
    [
      `soak: ${result.seconds} s, seed ${seed}`,
      `  faults: ${injected} injected, ${survived} survived`,
      ...rows,
      `  items checked: ${report.itemsChecked.toLocaleString('en')} (plus ${report.dropped.toLocaleString('en')} dropped and reported by overflow policies)`,
      `  problems (lost, duplicated or wrong): ${report.problemCount}`,
      ...report.problems.map((p) => `    ${p.split('\n')[0]}`),
      `  parent deaths: ${Object.entries(report.parentDeaths).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}; children left running: ${report.orphansLeft}; slowest until all gone: ${report.slowestOrphanMs} ms`,
      `  child processes left: ${leftChildren}`,
      `  esbuild zombies left by tsx in worker threads (known issue, see README): ${esbuildZombies()}`,
      `  RSS: start ${rss.startMb} MiB, end ${rss.endMb} MiB, peak ${rss.peakMb} MiB; quarter medians ${rss.quarterMediansMb.join(' / ')} MiB (${rss.samples} samples)`,
      `  RSS verdict: ${rss.flat ? 'flat' : 'NOT flat'}: ${rss.reason}`,
      `  verdict: ${ok ? 'PASS' : 'FAIL'}`,
    ].join('\n'),
  );
  console.log(`SOAK_RESULT ${JSON.stringify(result)}`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
