/**
 * The built command: src/ compiled by tsc (as `npm run build` does, into a directory of its own so
 * it never races other suites over dist/), run by plain Node as the package's `bin`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { enriched, ndjson, repo, runCli, tasksPath, transactions } from './helpers.ts';

const cache = join(repo, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
// Inside the repository, so the built files resolve `rxjs` (and `tsx`) from its node_modules.
const out = mkdtempSync(join(cache, 'rxjs-pools-etl-bin-'));
const cli = join(out, 'cli.js');

beforeAll(async () => {
  const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
  // Types are checked by `npm run typecheck`; this only needs the emitted JavaScript.
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out, '--noCheck', '--sourceMap', 'false', '--declaration', 'false'], {
    cwd: repo,
  });
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the built bin', () => {
  test('package.json names dist/cli.js as the rxjs-pools bin, and it starts with a node shebang', { timeout: 5_000 }, () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ 'rxjs-pools': './dist/cli.js' });
    expect(readFileSync(cli, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('runs from plain Node: ordered output, reports, exit codes, --help', { timeout: 20_000 }, async () => {
    const records = transactions(500).map((r) => ({ ...r, fail: r.id === 100 }));
    const run = await runCli(['map', tasksPath, 'enrich', '--threads', '2', '--chunksize', '8'], { script: cli, tsx: false, input: ndjson(records) });
    expect(run.stderr).toBe('line 100: RangeError: bad amount in record 100\n');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(ndjson(records.filter((r) => r.id !== 100).map(enriched)));

    const help = await runCli(['--help'], { script: cli, tsx: false });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: rxjs-pools map <module> <export>/);
  });

  test('runs a .ts task module from plain Node (tsx registered in the worker) on processes too', { timeout: 20_000 }, async () => {
    const upper = fileURLToPath(new URL('./fixtures/upper.ts', import.meta.url));
    const run = await runCli(['map', upper, 'upper', '--processes', '1'], { script: cli, tsx: false, input: ndjson([{ name: 'ada' }, { name: 'grace' }]) });
    expect(run).toEqual({ code: 0, stdout: '{"name":"ADA"}\n{"name":"GRACE"}\n', stderr: '' });
  });
});
