/**
 * Invalid options of every kind, refused eagerly with a TypeError whose message names the option
 * and shows the bad value (`0 (number)`, `"3" (string)`, `null`, `Object object`). Pools,
 * per-call options, map, shutdown, task() and the operators. Nothing is started for any of them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ProcessPool, ThreadPool, mapOnPool, mapOnProcesses, mapOnThreads, task } from '../../src/index.ts';
import { runtimes, t, track } from './fixtures/harness.ts';

type Case = readonly [option: string, value: unknown, shown: string];

/** Bad values shared by every option that takes a count or a duration. */
const notANumber: readonly (readonly [unknown, string])[] = [
  [NaN, 'NaN (number)'],
  ['3', '"3" (string)'],
  [null, 'null'],
  [true, 'true (boolean)'],
  [{}, 'Object object'],
];

function casesFor(option: string, extra: readonly (readonly [unknown, string])[]): Case[] {
  return [...extra, ...notANumber].map(([value, shown]) => [option, value, shown] as const);
}

const common: Case[] = [
  ...casesFor('maxWorkers', [[0, '0 (number)'], [-1, '-1 (number)'], [1.5, '1.5 (number)'], [Infinity, 'Infinity (number)']]),
  ...casesFor('taskTimeout', [[0, '0 (number)'], [-5, '-5 (number)'], [-Infinity, '-Infinity (number)']]),
  ...casesFor('maxTasksPerWorker', [[0, '0 (number)'], [2.5, '2.5 (number)'], [-Infinity, '-Infinity (number)']]),
  ...casesFor('idleTimeout', [[0, '0 (number)'], [-1, '-1 (number)']]),
  ['initializer', 42, '42 (number)'],
  ['initializer', 'init', '"init" (string)'],
  ['initializer', {}, 'Object object'],
  ['initializer', null, 'null'],
];

/** Escapes a literal for a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(runtimes)('$name options', (rt) => {
  const Pool = rt.thread ? ThreadPool : ProcessPool;
  const construct = (options: unknown) => () => new Pool(options as never);

  test.each(common)('`%s`: %o is refused, naming the option and the value', (option, value, shown) => {
    using tracker = track();
    expect(construct({ [option]: value })).toThrow(TypeError);
    expect(construct({ [option]: value })).toThrow(new RegExp(`\`${literal(option)}\`.*got ${literal(shown)}$`));
    expect(tracker.created('WORKER') + tracker.created('PROCESSWRAP')).toBe(0);
  });

  test('`initArgs`: not an array, or given without an initializer', () => {
    const initializer = (x: unknown) => x;
    expect(construct({ initializer, initArgs: 'x' })).toThrow(/Expected `initArgs` to be an array, got "x" \(string\)/);
    expect(construct({ initializer, initArgs: { length: 1 } })).toThrow(/Expected `initArgs` to be an array, got Object object/);
    expect(construct({ initArgs: [1] })).toThrow(/`initArgs` was given without an `initializer`/);
  });

  test.each([
    [null, 'null'],
    [3, '3 (number)'],
    ['maxWorkers: 2', '"maxWorkers: 2" (string)'],
    [[], 'Array object'],
  ])('options that are not an object: %o', (options, shown) => {
    expect(construct(options)).toThrow(new RegExp(`Expected ${rt.name} options to be an object, got ${literal(shown)}`));
  });

  test('an unknown option (a typo, or the other runtime’s option) is refused by name, listing the known ones', () => {
    expect(construct({ maxWorker: 2 })).toThrow(new RegExp(`Unknown ${rt.name} option \`maxWorker\`; known options: maxWorkers, `));
    const other = rt.thread ? { execArgv: [] } : { resourceLimits: {} };
    expect(construct(other)).toThrow(new RegExp(`Unknown ${rt.name} option \`${Object.keys(other)[0]}\``));
  });

  if (rt.thread) {
    test.each([
      [{ resourceLimits: 'big' }, /Expected `resourceLimits` to be an object, got "big" \(string\)/],
      [{ resourceLimits: [] }, /Expected `resourceLimits` to be an object, got Array object/],
      [{ resourceLimits: { heapMb: 16 } }, /Unknown `resourceLimits` field `heapMb`/],
      [{ resourceLimits: { maxOldGenerationSizeMb: 0 } }, /Expected `resourceLimits.maxOldGenerationSizeMb` to be a number above 0, got 0 \(number\)/],
      [{ resourceLimits: { stackSizeMb: NaN } }, /Expected `resourceLimits.stackSizeMb` to be a number above 0, got NaN \(number\)/],
      [{ resourceLimits: { maxYoungGenerationSizeMb: '8' } }, /Expected `resourceLimits.maxYoungGenerationSizeMb` to be a number above 0, got "8" \(string\)/],
    ])('resourceLimits %o', (options, message) => {
      expect(construct(options)).toThrow(message);
    });

    test('resourceLimits V8 cannot reserve are refused at construction, not a fatal crash of the whole process', () => {
      // Run in a child: today this aborts the host process ("Fatal process OOM … CodeRange").
      const script = fileURLToPath(new URL('./fixtures/huge-code-range.ts', import.meta.url));
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 15_000 });
      expect({ status: child.status, signal: child.signal }).toEqual({ status: 0, signal: null });
      expect(child.stdout).toMatch(/TypeError: .*`resourceLimits\.codeRangeSizeMb`.*1000000000 \(number\)/);
    }, 20_000);
  } else {
    test.each([
      [{ execArgv: '--inspect' }, /Expected `execArgv` to be an array of strings, got "--inspect" \(string\)/],
      [{ execArgv: [1] }, /Expected `execArgv` to be an array of strings, got Array object/],
      [{ env: 42 }, /Expected `env` to be an object, got 42 \(number\)/],
      [{ env: 'PATH=/bin' }, /Expected `env` to be an object, got "PATH=\/bin" \(string\)/],
    ])('%o', (options, message) => {
      expect(construct(options)).toThrow(message);
    });

    test.each([
      [{ env: { LABEL: Symbol('x') } }, /`env`/],
      [{ execArgv: ['--title=a\0b'] }, /`execArgv`/],
    ])('values fork() refuses are refused at construction, naming the option: %o', (options, message) => {
      // Today they pass validation and fork() throws on the first submit instead.
      expect(construct(options)).toThrow(message);
    });
  }

  describe('per call', () => {
    test('submit: every bad argument and option is a TypeError naming it; nothing starts', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const bad: [() => Promise<unknown>, RegExp][] = [
        [() => pool.submit(42 as never, [] as never), /Expected a task: a function or a task\(module, name\) reference, got 42 \(number\)/],
        [() => pool.submit(null as never, [] as never), /Expected a task: .* got null/],
        [() => pool.submit({ module: 1 } as never, [] as never), /Expected a task: .* got Object object/],
        [() => pool.submit(Math.max, [1, 2]), /function max is a bound or native function/],
        [() => pool.submit(((n: number) => n).bind(null), [1]), /function bound .* is a bound or native function/],
        [() => pool.submit(t.echo, 5 as never), /Expected `args` to be an array of arguments, got 5 \(number\)/],
        [() => pool.submit(t.echo, [1], null as never), /Expected options to be an object, got null/],
        [() => pool.submit(t.echo, [1], 'fast' as never), /Expected options to be an object, got "fast" \(string\)/],
        [() => pool.submit(t.echo, [1], { signal: {} as never }), /Expected `signal` to be an AbortSignal, got Object object/],
        [() => pool.submit(t.echo, [1], { signal: 'abort' as never }), /Expected `signal` to be an AbortSignal, got "abort" \(string\)/],
        [() => pool.submit(t.echo, [1], { timeout: 0 }), /Expected `timeout` to be a number of milliseconds above 0 \(or Infinity\), got 0 \(number\)/],
        [() => pool.submit(t.echo, [1], { timeout: NaN }), /Expected `timeout` .* got NaN \(number\)/],
        [() => pool.submit(t.echo, [1], { timeout: '100' as never }), /Expected `timeout` .* got "100" \(string\)/],
        [() => pool.submit(t.echo, [1], { transfer: 'buffer' as never }), /Expected `transfer` to be an array, got "buffer" \(string\)/],
      ];
      for (const [call, message] of bad) {
        const error = await call().then(
          () => new Error('resolved'),
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(message);
      }
      expect(pool.stats.workers).toBe(0);
      expect(await pool.submit(t.echo, ['still fine'])).toBe('still fine');
    });

    test('map: bad chunksize, buffersize, iterable, signal or timeout throw at the call, naming it', async () => {
      await using pool = new Pool({ maxWorkers: 1 });
      const f = (n: number) => n;
      expect(() => pool.map(f, [1], { chunksize: 0 })).toThrow(/Expected `chunksize` to be an integer from 1 and up, or 'auto', got 0 \(number\)/);
      expect(() => pool.map(f, [1], { chunksize: 'max' as never })).toThrow(/`chunksize`.*or 'auto', got "max" \(string\)/);
      expect(() => pool.map(f, [1], { totalTimeout: 0 })).toThrow(/Expected `totalTimeout` to be a number of milliseconds above 0.*got 0 \(number\)/);
      expect(() => pool.map(f, [1], { chunksize: 1.5 })).toThrow(/`chunksize`.*got 1\.5 \(number\)/);
      expect(() => pool.map(f, [1], { buffersize: 0 })).toThrow(/Expected `buffersize` to be an integer from 1 and up, got 0 \(number\)/);
      expect(() => pool.map(f, [1], { chunksize: 4, buffersize: 2 })).toThrow(/Expected `buffersize` to be an integer from 4 and up, got 2 \(number\)/);
      expect(() => pool.map(f, 42 as never)).toThrow(/Expected `iterable` to be an iterable or async iterable, got 42 \(number\)/);
      expect(() => pool.map(f, null as never)).toThrow(/`iterable`.*got null/);
      expect(() => pool.map(f, [1], { signal: {} as never })).toThrow(/`signal`.*got Object object/);
      expect(() => pool.map(f, [1], { timeout: -1 })).toThrow(/`timeout`.*got -1 \(number\)/);
      expect(pool.stats.workers).toBe(0);
    });

    test('shutdown: wait and cancelPending must be booleans', async () => {
      const pool = new Pool({ maxWorkers: 1 });
      expect(() => pool.shutdown({ wait: 'yes' as never })).toThrow(/Expected `wait` to be a boolean, got "yes" \(string\)/);
      expect(() => pool.shutdown({ cancelPending: 1 as never })).toThrow(/Expected `cancelPending` to be a boolean, got 1 \(number\)/);
      await pool.shutdown();
    });
  });
});

describe('task()', () => {
  test('a relative module path, an empty or non-string export name', () => {
    expect(() => task('./tasks.ts', 'x')).toThrow(/Expected `module` to be a URL or an absolute path, got "\.\/tasks\.ts" \(string\).*import\.meta\.url/);
    expect(() => task(42 as never, 'x')).toThrow(/`module`.*got 42 \(number\)/);
    expect(() => task(new URL('file:///x.ts'), '')).toThrow(/Expected `name` to be the name of an export, got "" \(string\)/);
    expect(() => task(new URL('file:///x.ts'), 7 as never)).toThrow(/`name`.*got 7 \(number\)/);
  });
});

describe('operators', () => {
  const pool = { maxWorkers: 2, runBatch: () => () => {} };
  const f = (n: number) => n;

  test.each([
    [{ concurrency: 0 }, /Expected `concurrency` to be an integer from 1 and up, got 0 \(number\)/],
    [{ concurrency: '2' }, /`concurrency`.*got "2" \(string\)/],
    [{ chunksize: 0 }, /`chunksize`.*got 0 \(number\)/],
    [{ chunksize: NaN }, /`chunksize`.*got NaN \(number\)/],
    [{ ordered: 'yes' }, /Expected `ordered` to be a boolean, got "yes" \(string\)/],
    [{ maxBuffered: -1 }, /Expected `maxBuffered` to be an integer from 0 and up \(or Infinity\), got -1 \(number\)/],
    [{ maxBuffered: 1.5 }, /`maxBuffered`.*got 1\.5 \(number\)/],
    [{ overflow: 'drop' }, /Expected `overflow` to be 'error', 'drop-oldest' or 'drop-newest', got "drop" \(string\)/],
    [{ overflow: 'drop-newest', onDrop: 42 }, /Expected `onDrop` to be a function, got 42 \(number\)/],
    [{ onDrop: () => {} }, /`onDrop` was given but `overflow` is 'error'/],
    [{ maxWorkers: 2 }, /Unknown mapOnPool option `maxWorkers`.*belong to the pool/],
    [null, /Expected the options of mapOnPool to be an object, got null/],
  ])('mapOnPool %o', (options, message) => {
    expect(() => mapOnPool(pool, f, options as never)).toThrow(TypeError);
    expect(() => mapOnPool(pool, f, options as never)).toThrow(message);
  });

  test('mapOnPool: a pool or a task that is not one', () => {
    expect(() => mapOnPool({} as never, f)).toThrow(/Expected `pool` to be a pool .* got Object object/);
    expect(() => mapOnPool({ maxWorkers: 0, runBatch: () => () => {} }, f)).toThrow(/`pool`/);
    expect(() => mapOnPool(pool, 42 as never)).toThrow(/Expected the task of mapOnPool to be a function or a task\(module, name\) reference, got 42 \(number\)/);
  });

  test.each([
    ['mapOnThreads', mapOnThreads, { maxWorkers: 0 }, /Expected `maxWorkers` to be an integer from 1 and up, got 0 \(number\)/],
    ['mapOnThreads', mapOnThreads, { taskTimeout: 'soon' }, /`taskTimeout`.*got "soon" \(string\)/],
    ['mapOnThreads', mapOnThreads, { execArgv: [] }, /Unknown mapOnThreads option `execArgv`/],
    ['mapOnThreads', mapOnThreads, { concurrency: -2 }, /`concurrency`.*got -2 \(number\)/],
    ['mapOnProcesses', mapOnProcesses, { maxWorkers: NaN }, /`maxWorkers`.*got NaN \(number\)/],
    ['mapOnProcesses', mapOnProcesses, { resourceLimits: {} }, /Unknown mapOnProcesses option `resourceLimits`/],
    ['mapOnProcesses', mapOnProcesses, { env: 3 }, /`env`.*got 3 \(number\)/],
    ['mapOnProcesses', mapOnProcesses, { overflow: 'drop-all' }, /`overflow`.*got "drop-all" \(string\)/],
  ] as const)('%s %o throws when the operator is created, before any subscription', (_, operator, options, message) => {
    using tracker = track();
    expect(() => (operator as typeof mapOnThreads)(f, options as never)).toThrow(message);
    expect(tracker.created('WORKER') + tracker.created('PROCESSWRAP')).toBe(0);
  });
});
