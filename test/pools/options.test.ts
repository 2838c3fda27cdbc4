/** Option validation: eager, at construction, and the message names the option and the bad value. */
import { describe, expect, test } from 'vitest';
import { ProcessPool, ThreadPool, task } from '../../src/index.ts';

describe.each([
  ['ThreadPool', ThreadPool],
  ['ProcessPool', ProcessPool],
] as const)('%s options', (name, Pool) => {
  test.each([
    [{ maxWorkers: 0 }, 'Expected `maxWorkers` to be an integer from 1 and up, got 0 (number)'],
    [{ maxWorkers: Number.NaN }, 'Expected `maxWorkers` to be an integer from 1 and up, got NaN (number)'],
    [{ maxWorkers: '3' }, 'Expected `maxWorkers` to be an integer from 1 and up, got "3" (string)'],
    [{ maxWorkers: 1.5 }, 'Expected `maxWorkers` to be an integer from 1 and up, got 1.5 (number)'],
    [{ maxWorkers: Infinity }, 'Expected `maxWorkers` to be an integer from 1 and up, got Infinity (number)'],
    [{ taskTimeout: 0 }, 'Expected `taskTimeout` to be a number of milliseconds above 0 (or Infinity), got 0 (number)'],
    [{ taskTimeout: -5 }, 'Expected `taskTimeout` to be a number of milliseconds above 0 (or Infinity), got -5 (number)'],
    [{ idleTimeout: null }, 'Expected `idleTimeout` to be a number of milliseconds above 0 (or Infinity), got null'],
    [{ maxTasksPerWorker: 0 }, 'Expected `maxTasksPerWorker` to be an integer from 1 and up (or Infinity), got 0 (number)'],
    [{ initializer: 'setup' }, 'Expected `initializer` to be a function or a task(module, name) reference, got "setup" (string)'],
    [{ initializer: () => {}, initArgs: 'x' }, 'Expected `initArgs` to be an array, got "x" (string)'],
    [{ initArgs: [1] }, '`initArgs` was given without an `initializer` to receive them'],
    [{ maxWorker: 2 }, 'Unknown ' + name + ' option `maxWorker`; known options: maxWorkers,'],
  ])('%o is refused: %s', (options, message) => {
    expect(() => new Pool(options as never)).toThrow(TypeError);
    expect(() => new Pool(options as never)).toThrow(message);
  });

  test('options must be an object', () => {
    expect(() => new Pool(3 as never)).toThrow(`Expected ${name} options to be an object, got 3 (number)`);
  });

  test('defaults: maxWorkers is the available parallelism; Infinity is accepted where it means "never"', async () => {
    const { availableParallelism } = await import('node:os');
    const pool = new Pool({ maxTasksPerWorker: Infinity, taskTimeout: Infinity, idleTimeout: Infinity });
    expect(pool.maxWorkers).toBe(availableParallelism());
    await pool.shutdown();
  });

  test('per-call options are checked too', async () => {
    const pool = new Pool({ maxWorkers: 1 });
    await expect(pool.submit((n: number) => n, [1], { timeout: 0 })).rejects.toThrow('Expected `timeout` to be a number of milliseconds above 0');
    await expect(pool.submit((n: number) => n, [1], { signal: {} as never })).rejects.toThrow('Expected `signal` to be an AbortSignal, got Object object');
    await expect(pool.submit((n: number) => n, [1], { transfer: 'x' as never })).rejects.toThrow('Expected `transfer` to be an array');
    expect(pool.stats.workers).toBe(0);
    await pool.shutdown();
  });
});

test('ThreadPool checks resourceLimits, ProcessPool checks execArgv and env', () => {
  expect(() => new ThreadPool({ resourceLimits: { maxOldGenerationSizeMb: -1 } })).toThrow('Expected `resourceLimits.maxOldGenerationSizeMb` to be a number above 0, got -1 (number)');
  expect(() => new ThreadPool({ resourceLimits: { heap: 1 } as never })).toThrow('Unknown `resourceLimits` field `heap`');
  expect(() => new ProcessPool({ execArgv: '--inspect' as never })).toThrow('Expected `execArgv` to be an array of strings, got "--inspect" (string)');
  expect(() => new ProcessPool({ env: 5 as never })).toThrow('Expected `env` to be an object, got 5 (number)');
  expect(() => new ThreadPool({ execArgv: [] } as never)).toThrow('Unknown ThreadPool option `execArgv`');
});

test('task() refuses what it cannot resolve', () => {
  expect(() => task('./tasks.ts', 'x')).toThrow("Expected `module` to be a URL or an absolute path, got \"./tasks.ts\" (string): write new URL('./tasks.ts', import.meta.url)");
  expect(() => task(new URL('file:///x.ts'), '')).toThrow('Expected `name` to be the name of an export, got "" (string)');
  expect(task('/abs/tasks.ts', 'f')).toEqual({ module: 'file:///abs/tasks.ts', name: 'f' });
});
