/** The README's pool example is a real file: it runs, prints what its comments say, and the README shows it verbatim. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const file = 'examples/pools-quickstart.ts';

test('examples/pools-quickstart.ts prints what its comments say, and the README shows it verbatim', { timeout: 30_000 }, async () => {
  const source = readFileSync(`${root}/${file}`, 'utf8');
  const expected = [...source.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!.replace(/ \(.*\)$/, ''));
  expect(expected.length).toBeGreaterThan(3);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 25_000 });
  expect(stdout.trim().split('\n')).toEqual(expected);
  expect(readFileSync(`${root}/README.md`, 'utf8')).toContain(source.trim());
});
