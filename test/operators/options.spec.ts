/**
 * Option validation of the operators and VirtualPool: eager (when the operator is created, not on
 * subscribe), with messages that name the option, the expectation and what was given.
 */
import { describe, expect, test } from 'vitest';
import { mapOnPool } from '../../src/operators/mapOnPool.ts';
import { mapOnProcesses } from '../../src/operators/mapOnProcesses.ts';
import { mapOnThreads } from '../../src/operators/mapOnThreads.ts';
import { VirtualPool } from '../../src/testing/index.ts';

const pool = new VirtualPool({ maxWorkers: 2, duration: () => 1 });
const double = (x: number) => x * 2;

describe('mapOnPool options', () => {
  test.each([
    [{ concurrency: 0 }, 'Expected `concurrency` to be an integer from 1 and up, got 0 (number)'],
    [{ concurrency: 1.5 }, 'Expected `concurrency` to be an integer from 1 and up, got 1.5 (number)'],
    [{ concurrency: Number.NaN }, 'Expected `concurrency` to be an integer from 1 and up, got NaN (number)'],
    [{ concurrency: '3' }, 'Expected `concurrency` to be an integer from 1 and up, got "3" (string)'],
    [{ concurrency: Infinity }, 'Expected `concurrency` to be an integer from 1 and up, got Infinity (number)'],
    [{ chunksize: 0 }, "Expected `chunksize` to be an integer from 1 and up, or 'auto', got 0 (number)"],
    [{ chunksize: null }, "Expected `chunksize` to be an integer from 1 and up, or 'auto', got null"],
    [{ chunksize: 'Auto' }, `Expected \`chunksize\` to be an integer from 1 and up, or 'auto', got "Auto" (string)`],
    [{ ordered: 'yes' }, 'Expected `ordered` to be a boolean, got "yes" (string)'],
    [{ maxBuffered: -1 }, 'Expected `maxBuffered` to be an integer from 0 and up (or Infinity), got -1 (number)'],
    [{ maxBuffered: 2.5 }, 'Expected `maxBuffered` to be an integer from 0 and up (or Infinity), got 2.5 (number)'],
    [{ overflow: 'drop' }, `Expected \`overflow\` to be 'error', 'drop-oldest' or 'drop-newest', got "drop" (string)`],
    [{ overflow: 'drop-newest', onDrop: 3 }, 'Expected `onDrop` to be a function, got 3 (number)'],
    [{ onDrop: () => {} }, "`onDrop` was given but `overflow` is 'error', which never drops"],
    [{ concurency: 2 }, 'Unknown mapOnPool option `concurency`; known options: concurrency, chunksize, ordered, maxBuffered, overflow, onDrop'],
    [{ maxWorkers: 2 }, 'pool options such as maxWorkers belong to the pool you pass in'],
  ])('%o is refused when the operator is created', (options, message) => {
    expect(() => mapOnPool(pool, double, options as never)).toThrow(TypeError);
    expect(() => mapOnPool(pool, double, options as never)).toThrow(message);
  });

  test('options that are not an object are refused', () => {
    expect(() => mapOnPool(pool, double, 3 as never)).toThrow('Expected the options of mapOnPool to be an object, got 3 (number)');
    expect(() => mapOnPool(pool, double, [] as never)).toThrow('Expected the options of mapOnPool to be an object, got Array object');
  });

  test('the task must be a function or a task reference; the pool must be a Pool', () => {
    expect(() => mapOnPool(pool, undefined as never)).toThrow(
      'Expected the task of mapOnPool to be a function or a task(module, name) reference, got undefined (undefined)',
    );
    expect(() => mapOnPool(pool, 'double' as never)).toThrow('got "double" (string)');
    expect(() => mapOnPool({} as never, double)).toThrow('Expected `pool` to be a pool');
    expect(() => mapOnPool(null as never, double)).toThrow('got null');
  });

  test('valid options and the defaults are accepted', () => {
    expect(() => mapOnPool(pool, double)).not.toThrow();
    expect(() =>
      mapOnPool(pool, double, { concurrency: 5, chunksize: 10, ordered: false, maxBuffered: 0, overflow: 'drop-oldest', onDrop: () => {} }),
    ).not.toThrow();
    expect(() => mapOnPool(pool, double, { maxBuffered: Infinity, overflow: 'error' })).not.toThrow();
  });
});

describe('mapOnThreads / mapOnProcesses options', () => {
  for (const [name, operator] of [
    ['mapOnThreads', mapOnThreads],
    ['mapOnProcesses', mapOnProcesses],
  ] as const) {
    test(`${name} checks operator and pool options when created`, () => {
      expect(() => operator(double, { maxWorkers: 0 })).toThrow('Expected `maxWorkers` to be an integer from 1 and up, got 0 (number)');
      expect(() => operator(double, { maxWorkers: Number.NaN })).toThrow('got NaN (number)');
      expect(() => operator(double, { maxWorkers: '3' as never })).toThrow('got "3" (string)');
      expect(() => operator(double, { taskTimeout: -5 })).toThrow('Expected `taskTimeout`');
      expect(() => operator(double, { concurrency: 0 })).toThrow('Expected `concurrency` to be an integer from 1 and up, got 0 (number)');
      expect(() => operator(double, { overflow: 'nope' as never })).toThrow('Expected `overflow`');
      expect(() => operator(double, { maxWorker: 2 } as never)).toThrow(`Unknown ${name} option \`maxWorker\``);
      expect(() => operator(42 as never)).toThrow(`Expected the task of ${name} to be a function or a task(module, name) reference`);
      expect(() => operator(double, null as never)).toThrow(`Expected the options of ${name} to be an object, got null`);
    });
    test(`${name} accepts valid options without starting anything`, () => {
      expect(() => operator(double, { maxWorkers: 2, concurrency: 3, chunksize: 4, ordered: false, taskTimeout: 1000 })).not.toThrow();
    });
  }
  test('runtime-specific options go to their own pool only', () => {
    expect(() => mapOnThreads(double, { resourceLimits: { maxOldGenerationSizeMb: 64 } })).not.toThrow();
    expect(() => mapOnThreads(double, { env: {} } as never)).toThrow('Unknown mapOnThreads option `env`');
    expect(() => mapOnProcesses(double, { execArgv: ['--no-warnings'], env: { A: '1' } })).not.toThrow();
    expect(() => mapOnProcesses(double, { resourceLimits: {} } as never)).toThrow('Unknown mapOnProcesses option `resourceLimits`');
  });
});

describe('VirtualPool options', () => {
  test.each([
    [{ maxWorkers: 0, duration: (): number => 1 }, 'Expected `maxWorkers` to be an integer from 1 and up, got 0 (number)'],
    [{ maxWorkers: '2', duration: (): number => 1 }, 'got "2" (string)'],
    [{ maxWorkers: 2 }, 'Expected `duration` to be a function from a value to a number of frames, got undefined (undefined)'],
    [{ maxWorkers: 2, duration: (): number => 1, scheduler: {} }, 'Expected `scheduler` to be an RxJS scheduler, got Object object'],
    [{ maxWorkers: 2, duration: (): number => 1, speed: 2 }, 'Unknown VirtualPool option `speed`'],
  ])('%o is refused', (options, message) => {
    expect(() => new VirtualPool(options as never)).toThrow(TypeError);
    expect(() => new VirtualPool(options as never)).toThrow(message);
  });
  test('options must be an object', () => {
    expect(() => new VirtualPool(undefined as never)).toThrow('Expected VirtualPool options to be an object, got undefined (undefined)');
  });
});
