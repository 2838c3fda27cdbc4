import { expect, test } from 'vitest';
import { ThreadPool, ProcessPool } from '../../src/index.ts';

test.each([ThreadPool, ProcessPool])('%o runs an inline task under vitest', async (P) => {
  await using pool = new P({ maxWorkers: 1 });
  expect(await pool.submit((n: number) => n * n, [4])).toBe(16);
});
