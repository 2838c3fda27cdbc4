/** examples/adapters.ts runs one task on threads.js, piscina and ThreadPool with the same operator; the README shows it verbatim. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const file = 'examples/adapters.ts';

test('examples/adapters.ts: the same hashes, in order, from threads.js, piscina and ThreadPool; it exits by itself', { timeout: 30_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 25_000 });
  expect(stderr).toBe('');
  const words = ['stressed', 'drawer', 'level', 'rotator', 'deified', 'repaid'];
  const hashes = words.map((w) => createHash('sha256').update(w).digest('hex').slice(0, 8));
  const printed = stdout.replace(/\s+/g, ' ').trim();
  const list = `[ ${hashes.map((h) => `'${h}'`).join(', ')} ]`;
  expect(printed).toBe(`threads.js ${list} piscina ${list} ThreadPool ${list}`);
  expect(readFileSync(`${root}/README.md`, 'utf8')).toContain(readFileSync(`${root}/${file}`, 'utf8').trim());
});
