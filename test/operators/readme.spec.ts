/**
 * The README's operators section stays true: its TypeScript examples run as written (with
 * `rxjs-pools` pointed at the sources), and each `// → …` line matches what the example prints.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const section = readme.slice(readme.indexOf('<!-- operators:start -->'), readme.indexOf('<!-- operators:end -->'));
const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

// Under node_modules/.cache (ignored by git) so `rxjs` resolves as it does for the project; .mts
// because that folder is outside the package's "type": "module".
const dir = `${root}node_modules/.cache/rxjs-pools-readme-${process.pid}`;
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(`${dir}/rxjs-pools.mts`, `export * from '${root}src/index.ts';\n`); // the package's own entry

async function run(name: string, code: string): Promise<string> {
  const source = code
    .replace(/from 'rxjs-pools'/g, `from './rxjs-pools.mts'`)
    .replace(/from 'rxjs-pools\/testing'/g, `from '${root}src/testing/index.ts'`);
  writeFileSync(`${dir}/${name}.mts`, source);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `${dir}/${name}.mts`], { cwd: root, timeout: 20_000 });
  return stdout;
}

test('the section has its two examples', () => {
  expect(blocks).toHaveLength(2);
});

test('the operators example prints what its // → lines say', { timeout: 25_000 }, async () => {
  const expected = [...blocks[0]!.matchAll(/^\/\/ → (.*)$/gm)].map((m) => m[1]);
  expect(expected.length).toBeGreaterThan(4);
  const stdout = await run('example', blocks[0]!);
  expect(stdout.trimEnd().split('\n')).toEqual(expected);
});

test('the VirtualPool example passes', { timeout: 25_000 }, async () => {
  // The example uses the test framework's expect; give it a strict one from node:assert.
  const shim = "import { deepStrictEqual } from 'node:assert';\nconst expect = (a: unknown) => ({ toEqual: (b: unknown) => deepStrictEqual(a, b) });\n";
  await expect(run('virtual', `${shim}${blocks[1]!}\nconsole.log('passed');\n`)).resolves.toBe('passed\n');
  // And it would fail if the marble were wrong.
  const wrong = blocks[1]!.replace("'--------(ABC|)'", "'-------(ABC|)'");
  expect(wrong).not.toBe(blocks[1]);
  await expect(run('virtual-wrong', `${shim}${wrong}`)).rejects.toThrow();
});
