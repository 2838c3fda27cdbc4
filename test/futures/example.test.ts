/** examples/futures-seed.ts (the seed with asCompleted and wait) runs, prints what it says, and the README shows it verbatim. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const file = 'examples/futures-seed.ts';

test('examples/futures-seed.ts: as_completed on threads, a deadline, wait on processes; the README shows it', { timeout: 30_000 }, async () => {
  const ms = 40; // each task's time (the seed's is 1000): the lines below scale with it
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file, String(ms)], { cwd: root, timeout: 25_000 });
  expect(stderr).toBe('');
  const lines = stdout.trim().split('\n');
  // Printed as they finish: every number once, in whatever order the three threads finished them.
  const processed = lines.slice(0, 10);
  expect([...processed].sort((a, b) => Number(a.split(': ')[1]) - Number(b.split(': ')[1]))).toEqual(
    Array.from({ length: 10 }, (_, i) => `Processed Number: ${i + 1}`),
  );
  expect(lines.slice(10)).toEqual([
    `asCompleted: 1 (of 1) promises unfinished after ${ms / 10} ms`,
    `after ${ms / 2} ms: 0 done, 8 pending`,
    'then: 8 done, 0 pending',
    ...[1, 2, 3, 4, 5, 11, 12, 14].map((n) => `Square of ${n}: ${n * n}`),
  ]);
  // The comments show the seed's run (ms = 1000): they agree with the lines above at that scale.
  const source = readFileSync(`${root}/${file}`, 'utf8');
  expect(source).toContain('// asCompleted: 1 (of 1) promises unfinished after 100 ms');
  expect(source).toContain('// after 500 ms: 0 done, 8 pending');
  expect(source).toContain('// then: 8 done, 0 pending');
  expect(readFileSync(`${root}/README.md`, 'utf8')).toContain(source.trim());
});
