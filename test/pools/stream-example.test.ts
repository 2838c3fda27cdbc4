/** The README's streaming example is a real file: it runs, prints exactly its `// →` lines, and the README shows it verbatim. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const file = 'examples/streams.ts';

test('examples/streams.ts prints its // → lines, and the README shows it verbatim', { timeout: 30_000 }, async () => {
  const source = readFileSync(`${root}/${file}`, 'utf8');
  const expected = [...source.matchAll(/^\s*\/\/ → (.*)$/gm)].map((m) => m[1]!);
  expect(expected.length).toBeGreaterThan(5);
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 25_000 });
  expect(stderr).toBe('');
  expect(stdout.trim().split('\n')).toEqual(expected);
  expect(readFileSync(`${root}/README.md`, 'utf8')).toContain(source.trim());
});
