/**
 * No hang without a named error (issue 12): a worker's start-up (coming up, the initializer, the
 * first import of a task module) has a bound of its own, `startTimeout`, apart from any task's
 * time. Past it what waits fails with a named error and shutdown is not held up; within it a
 * slow import never eats into `taskTimeout`.
 */
import { describe, expect, test } from 'vitest';
import { BrokenPoolError, TaskTimeoutError, task } from '../../src/index.ts';
import { rejection, runtimes, within } from './fixtures/harness.ts';

const DEADLINE = 20_000;
const slowImport = task<(n: number) => number>(new URL('./fixtures/modules/slow-import.ts', import.meta.url), 'quick');
const endlessImport = task<(n: number) => number>(new URL('./fixtures/modules/endless-import.mjs', import.meta.url), 'never');

describe.each(runtimes)('$name', (rt) => {
  test('an initializer that never settles: BrokenPoolError after startTimeout (not taskTimeout), and shutdown resolves', async () => {
    const pool = rt.make({ maxWorkers: 2, initializer: () => new Promise(() => {}), startTimeout: 500, taskTimeout: 100 });
    const error = await within(rejection(pool.submit((n: number) => n, [1])), DEADLINE, 'the rejection');
    expect(error).toBeInstanceOf(BrokenPoolError);
    expect(error.message).toMatch(/initializer .* did not finish within startTimeout \(500 ms\), so no worker can run tasks/);
    await expect(pool.submit((n: number) => n, [2])).rejects.toBeInstanceOf(BrokenPoolError);
    await within(pool.shutdown(), 10_000, 'shutdown');
    expect(pool.stats).toMatchObject({ workers: 0, state: 'broken' });
  }, DEADLINE);

  test('a module whose import takes longer than taskTimeout still runs: the import is start-up, not task time', async () => {
    await using pool = rt.make({ maxWorkers: 1, taskTimeout: 200 });
    expect(await pool.submit(slowImport, [41])).toBe(42);
    expect(await pool.submit(slowImport, [1])).toBe(2); // imported once per worker
  }, DEADLINE);

  test('a module whose import never finishes: TaskTimeoutError naming startTimeout, the pool goes on, shutdown resolves', async () => {
    const pool = rt.make({ maxWorkers: 1, startTimeout: 500 });
    const error = await within(rejection(pool.submit(endlessImport, [1])), DEADLINE, 'the rejection');
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error).toMatchObject({ timeout: 500 });
    expect(error.message).toMatch(/Task never could not start: importing its module did not finish within startTimeout \(500 ms\)/);
    expect(await pool.submit((n: number) => n * 2, [21])).toBe(42);
    await within(pool.shutdown(), 10_000, 'shutdown');
  }, DEADLINE);

  test('startTimeout defaults to 10 s, or to taskTimeout where that is larger; it is validated', () => {
    expect(() => rt.make({ startTimeout: 0 })).toThrow(/Expected `startTimeout` to be a number of milliseconds above 0 \(or Infinity\), got 0 \(number\)/);
    expect(() => rt.make({ stdout: 'file' as never })).toThrow(/Expected `stdout` to be 'inherit', 'stderr' or 'ignore', got "file" \(string\)/);
    expect(() => rt.make({ onEscapedError: 'log' as never })).toThrow(/Expected `onEscapedError` to be a function, got "log" \(string\)/);
  });
});
