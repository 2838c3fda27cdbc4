/**
 * Start-up that does not depend on how the parent runs: a worker loads only what its tasks need.
 * Inline functions and `.js` task modules never load tsx in a worker; a `.ts` task module registers
 * it there on first use, once; workers do not inherit the parent's loader, inspector or eval
 * flags, and an explicit ProcessPool `execArgv` is passed as is.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { ProcessPool, ThreadPool, task, validateProcessPoolOptions } from '../../src/index.ts';
import { inheritableExecArgv } from '../../src/pools/exec-argv.ts';
import type * as Probe from '../fixtures/startup-probe.mjs';
import type * as Tasks from '../fixtures/tasks.ts';
import type * as Typed from '../fixtures/typed.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

const state = task<typeof Probe.typeScriptState>(fixture('startup-probe.mjs'), 'typeScriptState');
const twice = task<typeof Typed.twice>(fixture('typed.ts'), 'twice');
const reverse = task<typeof Tasks.reverse>(fixture('tasks.ts'), 'reverse');
const inline = () => ({ execArgv: process.execArgv, registered: (globalThis as Record<symbol, unknown>)[Symbol.for('rxjs-pools.tsx')] ?? 0 });
/** Flags that would load something into a worker or open an inspector. */
const LOADING = /^(?:--import|--require|-r|--loader|--experimental-loader|--inspect|--debug-port|-e|--eval|-p|--print)(?:$|=|-)/;

describe('inheritableExecArgv: the flags a worker inherits', () => {
  test("drops tsx's loader flags, any --import / --require / -r / --loader / --experimental-loader, with their values", () => {
    const tsx = ['--require', '/app/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///app/node_modules/tsx/dist/loader.mjs'];
    expect(inheritableExecArgv([...tsx, '--max-old-space-size=200'])).toEqual(['--max-old-space-size=200']);
    expect(inheritableExecArgv(['-r', 'dotenv/config', '--import=./otel.js', '--loader', 'ts-node/esm', '--experimental-loader=./l.mjs', '--no-warnings'])).toEqual([
      '--no-warnings',
    ]);
  });

  test('drops inspector flags (--inspect, --inspect-brk, --inspect-wait, --inspect-port, --debug-port), in both spellings', () => {
    expect(
      inheritableExecArgv(['--inspect', '--inspect=9230', '--inspect-brk=0.0.0.0:9', '--inspect-wait', '--inspect-port', '9231', '--inspect_port=9232', '--debug-port=9233', '--conditions=dev']),
    ).toEqual(['--conditions=dev']);
  });

  test('drops eval flags with their code (-e, --eval, -p, --print, -pe), so a child does not run the parent script again', () => {
    expect(inheritableExecArgv(['-e', 'fork(…)', '--eval=x', '-p', '1', '--print', '2', '-pe', '3', '--stack-size=900'])).toEqual(['--stack-size=900']);
  });

  test('keeps everything else, in order, values included', () => {
    const argv = ['--max-old-space-size=256', '--conditions', 'development', '--enable-source-maps', '--no-deprecation', '--env-file=.env'];
    expect(inheritableExecArgv(argv)).toEqual(argv);
  });

  test("ProcessPool's default execArgv is the parent's without those flags; an explicit execArgv is taken exactly", () => {
    expect(validateProcessPoolOptions({}).execArgv).toEqual(inheritableExecArgv(process.execArgv));
    const explicit = ['--inspect=0', '--import', 'tsx', '--max-old-space-size=64'];
    expect(validateProcessPoolOptions({ execArgv: explicit }).execArgv).toEqual(explicit);
  });
});

describe.each([
  ['ThreadPool', ThreadPool],
  ['ProcessPool', ProcessPool],
] as const)('%s workers', (_name, Pool) => {
  test('an inline task and a .js task module load no tsx; a .ts module registers it in that worker on first use, once', async () => {
    await using pool = new Pool({ maxWorkers: 1 });
    const first = await pool.submit(inline, []);
    expect(first.registered).toBe(0);
    expect(first.execArgv.filter((arg) => LOADING.test(arg))).toEqual([]);

    const before = await pool.submit(state, []);
    expect(before).toMatchObject({ registered: 0, importsTypeScript: 'ERR_UNKNOWN_FILE_EXTENSION', commonJsHandler: false });

    expect(await pool.submit(twice, [21])).toBe(42);
    expect(await pool.submit(reverse, ['abc'])).toBe('cba'); // a second .ts module: no second registration
    const after = await pool.submit(state, []);
    expect(after).toMatchObject({ registered: 1, importsTypeScript: true });
  });

  test('a .js task module that imports a .ts file fails with a message that says why its worker has no tsx', async () => {
    await using pool = new Pool({ maxWorkers: 1 });
    const viaJs = task<typeof Typed.twice>(fixture('imports-ts.mjs'), 'twice');
    const error = (await pool.submit(viaJs, [1]).catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe('ERR_UNKNOWN_FILE_EXTENSION');
    expect(error.message).toMatch(/task module .*imports-ts\.mjs is JavaScript, so its worker did not register tsx .*give the task module a \.ts extension/);
    expect(await pool.submit(inline, [])).toMatchObject({ registered: 0 });
  });
});

test('under tsx with --inspect: workers inherit neither the loader nor the inspector; an explicit ProcessPool execArgv is passed as is', { timeout: 30_000 }, async () => {
  const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));
  const script = fileURLToPath(fixture('startup-report.ts'));
  // --inspect on port 0 (any free port): a child inheriting it would open a second inspector;
  // --max-old-space-size is a flag a worker thread refuses in an explicit execArgv.
  const { stdout, stderr } = await run(process.execPath, [tsxCli, '--inspect=127.0.0.1:0', '--max-old-space-size=200', '--no-deprecation', script], {
    cwd: root,
    timeout: 25_000,
  });
  const report = JSON.parse(stdout) as Record<'thread' | 'process' | 'processExplicit', Record<string, { execArgv: string[]; registered: number; importsTypeScript?: unknown }> & { result: number }> & {
    parent: string[];
    explicit: string[];
  };
  expect(report.parent).toEqual(expect.arrayContaining(['--import', '--inspect=127.0.0.1:0'])); // the parent really ran tsx and the inspector
  expect(stderr.match(/Debugger listening on/g)).toHaveLength(1); // only the parent's inspector

  // Threads: the parent's flags without loader and inspector (and without the process-wide
  // --max-old-space-size, which a thread refuses and which applies to the process anyway).
  for (const step of ['first', 'beforeTs', 'afterTs']) expect(report.thread[step]!.execArgv).toEqual(['--no-deprecation']);
  // Processes: the same rule, process-wide flags kept.
  for (const step of ['first', 'beforeTs', 'afterTs']) expect(report.process[step]!.execArgv).toEqual(['--max-old-space-size=200', '--no-deprecation']);
  for (const kind of ['thread', 'process'] as const) {
    expect(report[kind].first!.registered).toBe(0);
    expect(report[kind].beforeTs).toMatchObject({ registered: 0, importsTypeScript: 'ERR_UNKNOWN_FILE_EXTENSION' });
    expect(report[kind].result).toBe(42);
    expect(report[kind].afterTs).toMatchObject({ registered: 1, importsTypeScript: true });
  }
  // Explicit execArgv with tsx's loader: exactly those flags; tsx is active from the start and the
  // worker does not register it a second time (that breaks tsx's transforms).
  for (const step of ['first', 'beforeTs', 'afterTs']) expect(report.processExplicit[step]!.execArgv).toEqual(report.explicit);
  expect(report.processExplicit.beforeTs).toMatchObject({ registered: 0, importsTypeScript: true });
  expect(report.processExplicit.result).toBe(42);
  expect(report.processExplicit.afterTs).toMatchObject({ registered: 0 });
});

test('a .ts task module where tsx cannot be found fails with an error that says `npm install -D tsx`', async () => {
  // The worker's loader, copied where no node_modules can provide tsx.
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-no-tsx-'));
  try {
    copyFileSync(new URL('../../src/pools/worker/load.js', import.meta.url), join(dir, 'load.js'));
    copyFileSync(fixture('typed.ts'), join(dir, 'typed.ts'));
    const code = `const { loadExport } = await import(${JSON.stringify(pathToFileURL(join(dir, 'load.js')).href)});
      try { await loadExport(${JSON.stringify(pathToFileURL(join(dir, 'typed.ts')).href)}, 'twice'); console.log('loaded'); }
      catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, cause: e.cause?.code })); }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, timeout: 15_000 });
    const error = JSON.parse(stdout) as { name: string; message: string; cause: string };
    expect(error.name).toBe('TypeError');
    expect(error.message).toMatch(/^Task module file:.*typed\.ts is TypeScript and tsx is not installed: `npm install -D tsx`, or build it to \.js$/);
    expect(error.cause).toBe('ERR_MODULE_NOT_FOUND');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
