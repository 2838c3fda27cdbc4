/** The adapter libraries are optional peers: rxjs-pools/adapters loads and works without any of them. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('rxjs-pools/adapters resolves none of piscina, tinypool, workerpool, threads', { timeout: 30_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', './test/adapters/fixtures/no-peers.mjs', '--import', 'tsx', 'test/adapters/fixtures/no-peers-user.ts'],
    { cwd: root, timeout: 25_000 },
  );
  expect(stderr).toBe('');
  expect(stdout.trim()).toBe('[2,4,6] function function function');
});

test('package.json: an ./adapters export, and each library an optional peer dependency', () => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as Record<string, Record<string, unknown>>;
  expect(pkg.exports!['./adapters']).toEqual({ types: './dist/adapters/index.d.ts', default: './dist/adapters/index.js' });
  for (const name of ['piscina', 'tinypool', 'workerpool', 'threads']) {
    expect(pkg.peerDependencies![name]).toMatch(/^\^\d/);
    expect(pkg.peerDependenciesMeta![name]).toEqual({ optional: true });
    expect(pkg.devDependencies![name]).toBeDefined(); // installed for the tests only
  }
});
