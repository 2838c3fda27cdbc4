/**
 * The `.marble` scenario format (see marbles/README.md), and running a scenario in virtual time.
 * Used by test/marbles.spec.ts (assertions, ThreadPool replay) and marbles/render.ts (SVGs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Observable, tap, type ObservableNotification } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { mapOnPool } from '../src/operators/mapOnPool.ts';
import type { MapOnPoolOptions } from '../src/operators/options.ts';
import type { BatchCallback, BatchResult, Cancel, Pool, Task } from '../src/pools/Pool.ts';
import { VirtualPool, type VirtualBatch } from '../src/testing/index.ts';

export interface Scenario {
  /** File name without `.marble`. */
  readonly name: string;
  readonly file: string;
  /** The first comment line. */
  readonly title: string;
  /** The other comment lines before the first key. */
  readonly about: string;
  /** Source text of the task: a self-contained function expression. */
  readonly fn: string;
  readonly maxWorkers: number;
  /** Operator options, as written (`onDrop` is added by the runner for the drop policies). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Frames per source value letter; `*` is the default. */
  readonly durations: Readonly<Record<string, number>>;
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** `Name: message` of the error `#` in `source` stands for. */
  readonly sourceError: string | undefined;
  /** When the test unsubscribes from the output, if early. */
  readonly unsub: string | undefined;
  readonly output: string;
  readonly outputs: Readonly<Record<string, unknown>>;
  /** `Name: message` of the output's error; a trailing `…` matches a prefix of the message. */
  readonly error: string | undefined;
  /** Source subscription marble. */
  readonly subs: string;
  /** Values `onDrop` receives, in order. */
  readonly dropped: readonly unknown[] | undefined;
  /** Most batches running at once, if asserted. */
  readonly peak: number | undefined;
}

const KEYS = [
  'fn',
  'maxWorkers',
  'options',
  'durations',
  'source',
  'values',
  'source-error',
  'unsub',
  'output',
  'outputs',
  'error',
  'subs',
  'dropped',
  'peak',
] as const;
const REQUIRED = ['fn', 'maxWorkers', 'source', 'output', 'subs'] as const;

/** `1` → 1, `"x"` → "x", `true` → true; anything not JSON is kept as a string (`drop-oldest`). */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `a=1 b="x"` → { a: 1, b: 'x' }. */
function parseAssignments(text: string, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const token of text.split(/\s+/).filter(Boolean)) {
    const eq = token.indexOf('=');
    if (eq <= 0) throw new SyntaxError(`${where}: expected name=value, got ${JSON.stringify(token)}`);
    out[token.slice(0, eq)] = parseValue(token.slice(eq + 1));
  }
  return out;
}

export function parseScenario(text: string, file: string): Scenario {
  const fields = new Map<string, string>();
  const comments: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trimEnd();
    const where = `${file}:${i + 1}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (fields.size === 0) comments.push(line.replace(/^#\s?/, ''));
      continue;
    }
    const match = /^([a-zA-Z-]+):\s*(.*)$/.exec(line);
    if (!match) throw new SyntaxError(`${where}: expected "key: value", got ${JSON.stringify(line)}`);
    const [, key, value] = match as unknown as [string, string, string];
    if (!(KEYS as readonly string[]).includes(key)) throw new SyntaxError(`${where}: unknown key ${JSON.stringify(key)}; known: ${KEYS.join(', ')}`);
    if (fields.has(key)) throw new SyntaxError(`${where}: ${key} given twice`);
    fields.set(key, value);
  }
  for (const key of REQUIRED) if (!fields.has(key)) throw new SyntaxError(`${file}: missing ${key}`);
  const get = (key: (typeof KEYS)[number]) => fields.get(key);
  const durations = parseAssignments(get('durations') ?? '', `${file} durations`) as Record<string, number>;
  for (const [letter, frames] of Object.entries(durations)) {
    if (typeof frames !== 'number' || !(frames >= 0)) throw new SyntaxError(`${file}: duration of ${letter} must be a number of frames`);
  }
  const peak = get('peak');
  return {
    name: basename(file, '.marble'),
    file,
    title: comments[0] ?? basename(file, '.marble'),
    about: comments.slice(1).join(' ').trim(),
    fn: get('fn')!,
    maxWorkers: Number(get('maxWorkers')),
    options: parseAssignments(get('options') ?? '', `${file} options`),
    durations,
    source: get('source')!,
    values: parseAssignments(get('values') ?? '', `${file} values`),
    sourceError: get('source-error'),
    unsub: get('unsub'),
    output: get('output')!,
    outputs: parseAssignments(get('outputs') ?? '', `${file} outputs`),
    error: get('error'),
    subs: get('subs')!,
    dropped: get('dropped')?.split(/\s+/).filter(Boolean).map(parseValue),
    peak: peak === undefined ? undefined : Number(peak),
  };
}

/** Every `*.marble` file in `dir`, sorted by name. */
export function loadScenarios(dir: string): Scenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.marble'))
    .sort()
    .map((f) => parseScenario(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

/** Compiles the scenario's task. It stays self-contained, so a real pool can run it by source. */
export function compileFn(scenario: Scenario): (value: unknown) => unknown {
  // biome-ignore lint: the scenario text is the function's source, by design.
  const fn = new Function(`return (${scenario.fn});`)() as unknown;
  if (typeof fn !== 'function') throw new SyntaxError(`${scenario.file}: fn is not a function`);
  return fn as (value: unknown) => unknown;
}

/** `Error: bad 2` → an Error whose name and message are those. */
export function errorFrom(text: string): Error {
  const colon = text.indexOf(': ');
  const error = new Error(colon < 0 ? text : text.slice(colon + 2));
  if (colon >= 0) error.name = text.slice(0, colon);
  return error;
}

/** How an error is compared: `Name: message`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `non-Error ${String(error)}`;
}

/** The letter of a source value, for durations; values must be distinct. */
function durationOf(scenario: Scenario): (value: unknown) => number {
  const byValue = new Map<string, number>();
  for (const [letter, value] of Object.entries(scenario.values)) {
    const frames = scenario.durations[letter] ?? scenario.durations['*'];
    if (frames === undefined) throw new SyntaxError(`${scenario.file}: no duration for ${letter} (and no *=default)`);
    byValue.set(JSON.stringify(value), frames);
  }
  return (value) => {
    const frames = byValue.get(JSON.stringify(value)) ?? scenario.durations['*'];
    if (frames === undefined) throw new Error(`${scenario.file}: no duration for value ${JSON.stringify(value)}`);
    return frames;
  };
}

/** What happened during a virtual run, in the order it happened: the script a replay follows. */
export type Step =
  | { readonly kind: 'source'; readonly notification: ObservableNotification<unknown> }
  | { readonly kind: 'settle'; readonly batch: number }
  | { readonly kind: 'unsubscribe' };

/** The output as a plain sequence: values, then `{ error }` or `{ complete: true }` (or neither). */
export type Outcome = { values: unknown[]; end: { error: string } | { complete: true } | undefined; dropped: unknown[] };

export interface VirtualRun {
  /** Source notifications and pool settlements, in order. */
  readonly steps: Step[];
  /** Items of each batch, in submission order. */
  readonly batches: unknown[][];
  /** How each batch settled, by batch (undefined: cancelled). */
  readonly answers: ({ error: Error | undefined; result: BatchResult<unknown> | undefined } | undefined)[];
  /** The VirtualPool's record of each batch (frames). */
  readonly log: readonly VirtualBatch[];
  readonly peakRunning: number;
  readonly outcome: Outcome;
  /** Values dropped by an overflow policy, with the frame (for the renderer). */
  readonly drops: { frame: number; value: unknown }[];
  /** Output notifications with frames, as TestScheduler recorded them (for the renderer). */
  readonly frames: { frame: number; notification: ObservableNotification<unknown> }[];
}

/**
 * Builds the operator options of a scenario; `onDrop` records drops into `dropped`, and checks the
 * running count it is given.
 */
export function optionsOf(scenario: Scenario, dropped: unknown[]): MapOnPoolOptions<unknown> {
  const options: Record<string, unknown> = { ...scenario.options };
  if (options.overflow === 'drop-oldest' || options.overflow === 'drop-newest') {
    options.onDrop = (value: unknown, count: number) => {
      dropped.push(value);
      if (count !== dropped.length) throw new Error(`onDrop count ${count} after ${dropped.length} drops`);
    };
  }
  return options as MapOnPoolOptions<unknown>;
}

/** Wraps a pool, recording batches, how and when each settles. */
function recordingPool(pool: Pool, steps: Step[], batches: unknown[][], answers: VirtualRun['answers']): Pool {
  return {
    maxWorkers: pool.maxWorkers,
    runBatch<T, R>(fn: Task<(value: T) => R | PromiseLike<R>>, items: readonly T[], callback: BatchCallback<R>): Cancel {
      const batch = batches.length;
      batches.push([...items]);
      return pool.runBatch<T, R>(fn, items, (error, result) => {
        steps.push({ kind: 'settle', batch });
        answers[batch] = { error, result: result as BatchResult<unknown> | undefined };
        callback(error, result);
      });
    },
  };
}

/**
 * Runs a scenario under `testScheduler.run`: `mapOnPool` over a VirtualPool, on a cold source.
 * `assert` (given the TestScheduler helpers, the result and the source) may add expectations; the
 * run's own record is returned after the flush.
 */
export function runVirtual(
  scenario: Scenario,
  compare: (actual: unknown, expected: unknown) => void = () => {},
  assert?: (helpers: Parameters<Parameters<TestScheduler['run']>[0]>[0], result: Observable<unknown>, source: ReturnType<TestScheduler['createColdObservable']>) => void,
): VirtualRun {
  const steps: Step[] = [];
  const batches: unknown[][] = [];
  const answers: VirtualRun['answers'] = [];
  const outcome: Outcome = { values: [], end: undefined, dropped: [] };
  const frames: VirtualRun['frames'] = [];
  const drops: VirtualRun['drops'] = [];
  let pool!: VirtualPool;
  const scheduler = new TestScheduler(compare);
  scheduler.run((helpers) => {
    pool = new VirtualPool({ maxWorkers: scenario.maxWorkers, duration: durationOf(scenario) });
    const error = scenario.sourceError === undefined ? undefined : errorFrom(scenario.sourceError);
    const source = helpers.cold(scenario.source, scenario.values, error);
    const recorded = source.pipe(
      tap({
        next: (value) => steps.push({ kind: 'source', notification: { kind: 'N', value } }),
        error: (error: unknown) => steps.push({ kind: 'source', notification: { kind: 'E', error } }),
        complete: () => steps.push({ kind: 'source', notification: { kind: 'C' } }),
      }),
    );
    const options = optionsOf(scenario, outcome.dropped);
    const { onDrop } = options;
    if (onDrop !== undefined) {
      (options as { onDrop: typeof onDrop }).onDrop = (value, count) => {
        drops.push({ frame: scheduler.now(), value });
        onDrop(value, count);
      };
    }
    const result = recorded.pipe(
      mapOnPool(recordingPool(pool, steps, batches, answers), compileFn(scenario), options),
      tap({
        next: (value) => {
          outcome.values.push(value);
          frames.push({ frame: scheduler.now(), notification: { kind: 'N', value } });
        },
        error: (error: unknown) => {
          outcome.end = { error: describeError(error) };
          frames.push({ frame: scheduler.now(), notification: { kind: 'E', error } });
        },
        complete: () => {
          outcome.end = { complete: true };
          frames.push({ frame: scheduler.now(), notification: { kind: 'C' } });
        },
        unsubscribe: () => steps.push({ kind: 'unsubscribe' }),
      }),
    );
    if (assert) assert(helpers, result, source);
    else helpers.expectObservable(result, scenario.unsub).toBe(scenario.output, scenario.outputs);
  });
  return { steps, batches, answers, log: pool.log, peakRunning: pool.peakRunning, outcome, drops, frames };
}
