/** examples/etl-feed.ts runs in one line, exits by itself, and its three pipelines agree. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { repo } from './helpers.ts';

test('the ETL feed example prints the three runs with their speedups and identical outputs', { timeout: 30_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/etl-feed.ts', '--records', '600', '--threads', '2'], {
    cwd: repo,
    timeout: 25_000,
  });
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toBe('ETL feed: 600 card transactions (NDJSON) → parse → enrich (tokenise card, risk score) → NDJSON');
  expect(lines[2]).toMatch(/^ {2}main thread +\d+\.\d\d s +[\d,]+ records\/s$/);
  expect(lines[3]).toMatch(/^ {2}2 threads: pipeline \+ mapStream +\d+\.\d\d s +[\d,]+ records\/s {2}\d+\.\d\d× faster · pool \d+% utilized$/);
  expect(lines[4]).toMatch(/^ {2}2 threads: mapOnPool \(RxJS\) +\d+\.\d\d s +[\d,]+ records\/s {2}\d+\.\d\d× faster · pool \d+% utilized$/);
  expect(lines[5]).toMatch(/^ {2}outputs identical: /);
  expect(stderr).toBe('');
});
