// Checks the claims the README makes about threads.js (the `threads` package), one subprocess each.
//   npm run bench:threadsjs
// Throughput against piscina and workerpool in the same rounds comes from `npm run bench` (workload 1).
//
// The TypeScript fixtures are written to a scratch folder under node_modules/.cache at run time, not
// kept in bench/: the repo's tsconfig includes bench/, and a file importing 'threads' fails `tsc`
// there (that failure is claim 4), which would break the project's own type check.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const scratch = join(root, 'node_modules', '.cache', 'rxjs-pools-bench', 'threadsjs');
mkdirSync(scratch, { recursive: true });
const fixtures = {
  'package.json': '{ "type": "module" }\n',
  // A worker written in TypeScript, as a user of tsx or vitest would write it.
  'ts-worker.ts': `import { expose } from 'threads/worker';
const add = (a: number, b: number): number => a + b;
expose({ add });
`,
  'spawn-ts-worker.ts': `import { spawn, Worker } from 'threads';
setTimeout(() => { console.log('threads.js .ts worker under tsx: no answer after 10 s (hung)'); process.exit(1); }, 10_000);
const w = await spawn(new Worker('./ts-worker.ts'));
console.log('threads.js .ts worker under tsx: add(2, 3) =', await w.add(2, 3));
process.exit(0);
`,
  // *.check.ts with its own config: the project's \`npm test\` never picks it up.
  'ts-worker.check.ts': `import { expect, test } from 'vitest';
import { spawn, Worker } from 'threads';
test('threads.js spawns a .ts worker under vitest', async () => {
  const w = await spawn(new Worker('./ts-worker.ts'));
  expect(await w.add(2, 3)).toBe(5);
}, 10_000);
`,
  'vitest.config.mjs': `export default { test: { root: ${JSON.stringify(scratch)}, include: ['*.check.ts'] } };\n`,
  // For comparison, the same .ts module run as an rxjs-pools task (from the source, as under tsx/vitest).
  'ours-tsx.ts': `import { ThreadPool, task } from ${JSON.stringify(join(root, 'src/index.ts'))};
const add = task<(a: number, b: number) => number>(new URL('./ts-task.ts', import.meta.url), 'add');
await using pool = new ThreadPool({ maxWorkers: 1 });
console.log('rxjs-pools .ts task under tsx: add(2, 3) =', await pool.submit(add, [2, 3]));
`,
  'ts-task.ts': `export const add = (a: number, b: number): number => a + b;\n`,
  'ours.check.ts': `import { expect, test } from 'vitest';
import { ThreadPool, task } from ${JSON.stringify(join(root, 'src/index.ts'))};
test('rxjs-pools runs a .ts task under vitest', async () => {
  const add = task<(a: number, b: number) => number>(new URL('./ts-task.ts', import.meta.url), 'add');
  await using pool = new ThreadPool({ maxWorkers: 1 });
  expect(await pool.submit(add, [2, 3])).toBe(5);
}, 10_000);
`,
  'abs-path.mjs': `import { spawn, Worker } from 'threads';
try {
  await spawn(new Worker(${JSON.stringify(join(here, '..', 'workers', 'threadsjs-worker.mjs'))}));
  console.log('threads.js absolute worker path: spawned');
} catch (e) {
  console.log('threads.js absolute worker path: FAILED:', String(e.message).split('\\n')[0]);
}
process.exit(0);
`,
  'types-nodenext.ts': `import { spawn, Pool, Worker } from 'threads';
import { expose } from 'threads/worker';
export const used = [spawn, Pool, Worker, expose];
`,
  // This repo's compiler options (strict, module/moduleResolution NodeNext).
  'tsconfig.json': `${JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: '.' }, include: ['types-nodenext.ts'] }, null, 2)}\n`,
};
for (const [f, text] of Object.entries(fixtures)) writeFileSync(join(scratch, f), text);

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (title, cmd, args, cwd = root) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 90_000 });
  console.log(`\n## ${title}\n$ ${[cmd.replace(`${root}/`, ''), ...args].join(' ')}  (exit ${r.status ?? r.signal})`);
  return `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
};
const pick = (out, re) => out.split('\n').filter((l) => re.test(l)).slice(0, 6).join('\n') || out.trim().split('\n').slice(-5).join('\n');
const rate = (o) => Math.round(JSON.parse(/@@RESULT (.*)/.exec(o)?.[1] ?? '{"value":0}').value);

console.log(pick(run('1. A worker that exits mid-task', 'node', ['hang.mjs'], here), /:/));

for (const n of [1000, 5000, 20000]) {
  const args = (s) => [join(root, 'bench/child.mjs'), 'overhead', s, JSON.stringify({ n, warm: 64 })];
  const t = rate(run(`2. ${n} tasks queued at once, 2 workers: threads.js`, 'node', args('threadsjs')));
  const p = rate(run(`   then piscina, same ${n} tasks`, 'node', args('piscina')));
  console.log(`threads.js ${t} tasks/s; piscina ${p} tasks/s (${(p / t).toFixed(1)}×)`);
}

console.log(pick(run('3a. A .ts worker under tsx', bin('tsx'), ['spawn-ts-worker.ts'], scratch), /threads\.js|Error|ERR_/));
console.log(pick(run('3b. A .ts worker under vitest', bin('vitest'), ['run', '--config', join(scratch, 'vitest.config.mjs'), 'ts-worker.check.ts'], scratch), /Error|ERR_|Tests |✓|×|FAIL/));
console.log(pick(run('3c. For comparison: an rxjs-pools .ts task under tsx', bin('tsx'), ['ours-tsx.ts'], scratch), /rxjs-pools|Error|ERR_/));
console.log(pick(run('3d. For comparison: an rxjs-pools .ts task under vitest', bin('vitest'), ['run', '--config', join(scratch, 'vitest.config.mjs'), 'ours.check.ts'], scratch), /Error|ERR_|Tests |✓|×|FAIL/));
console.log(pick(run('4. Types under moduleResolution NodeNext', bin('tsc'), ['--noEmit', '-p', join(scratch, 'tsconfig.json')], scratch), /error TS/));
console.log(pick(run('5. An absolute worker path', 'node', ['abs-path.mjs'], scratch), /threads\.js/));
