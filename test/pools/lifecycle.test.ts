/** How pools meet the rest of a program: scripts that exit by themselves, the built package, the main-module trap. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { ProcessPool, RecursivePoolError, ThreadPool, isPoolWorker, task } from '../../src/index.ts';
import type * as Recursive from '../fixtures/recursive.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe.each([
  ['thread', ThreadPool],
  ['process', ProcessPool],
] as const)('%s pool', (kind, Pool) => {
  test('a script that never calls shutdown exits by itself once its work is done', { timeout: 30_000 }, async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture('forgets-shutdown.ts'), kind], { cwd: root, timeout: 25_000 });
    expect(JSON.parse(stdout)).toEqual({ results: [10, 20, 30], mapped: [2, 3, 4] });
  });

  test('a task module that creates a pool at import gets RecursivePoolError with the fix; the pool keeps working', async () => {
    await using pool = new Pool({ maxWorkers: 1 });
    const work = task<typeof Recursive.work>(new URL('../fixtures/recursive.ts', import.meta.url), 'work');
    const error = (await pool.submit(work, [1]).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RecursivePoolError);
    expect(error.message).toMatch(/while a pool worker was importing the task module .*recursive\.ts/);
    expect(error.message).toMatch(/isPoolWorker\(\)/);
    expect(await pool.submit((n: number) => n + 1, [1])).toBe(2);
    expect(await pool.submit(() => (globalThis as Record<symbol, unknown>)[Symbol.for('rxjs-pools.worker')], [])).toBe(true);
    expect(isPoolWorker()).toBe(false);
  });
});

describe('the built package', () => {
  beforeAll(async () => {
    await run(process.execPath, [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.build.json'], { cwd: root });
  }, 60_000);

  test('runs .js module tasks and inline tasks from plain Node, and .ts tasks by registering tsx in the worker', { timeout: 30_000 }, async () => {
    const env = { ...process.env, NODE_OPTIONS: '' };
    const { stdout } = await run(process.execPath, [fixture('dist-smoke.mjs')], { cwd: root, env, timeout: 25_000 });
    expect(JSON.parse(stdout)).toEqual({ ThreadPool: ['HI!', 49, 'cba'], ProcessPool: ['HI!', 49, 'cba'] });
  });
});
