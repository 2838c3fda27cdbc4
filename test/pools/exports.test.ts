/** `rxjs-pools/pools`: the pools, the error classes and asCompleted / wait, without loading rxjs. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import * as pools from '../../src/pools/index.ts';
import * as errors from '../../src/errors.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('every error class is exported from rxjs-pools/pools', () => {
  for (const [name, value] of Object.entries(errors)) expect(pools[name as keyof typeof pools], name).toBe(value);
});

test('rxjs-pools/pools runs both pools and raises its errors with rxjs unresolvable', { timeout: 30_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', './test/fixtures/no-rxjs.mjs', '--import', 'tsx', 'test/fixtures/no-rxjs-user.ts'],
    { cwd: root, timeout: 25_000 },
  );
  expect(stderr).toBe('');
  expect(stdout.trim()).toBe('true true true 49');
});
