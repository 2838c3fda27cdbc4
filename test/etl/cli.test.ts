/**
 * `rxjs-pools map`: end-to-end runs of the command from source (node --import tsx src/cli.ts, what
 * `npx tsx src/cli.ts` runs) on generated NDJSON, and in-process runs of `main` for usage errors.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { main, EXIT_FATAL, EXIT_OK, EXIT_RECORD_FAILED } from '../../src/cli/main.ts';
import { openGate } from '../fixtures/gate.ts';
import { enriched, ndjson, quiet, repo, runCli, startCli, tasksPath, transactions } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += chunk;
      callback();
    },
  });
  return { stream, text: () => text };
}

/** Runs `main` in this process with in-memory streams. */
async function inProcess(argv: string[], input: string | Readable = '', stderrIsTTY = false, err = sink()) {
  const out = sink();
  const stdin = typeof input === 'string' ? Readable.from([input]) : input;
  const code = await main(argv, { stdin, stdout: out.stream, stderr: err.stream, stderrIsTTY, cwd: repo });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('rxjs-pools map, end to end', () => {
  test('keeps input order over threads and chunks (stdin in, stdout out), exit 0, stderr silent', { timeout: 20_000 }, async () => {
    const records = transactions(3000);
    const run = await runCli(['map', tasksPath, 'enrich', '--threads', '2', '--chunksize', '7'], { input: ndjson(records) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT_OK);
    expect(run.stdout).toBe(ndjson(records.map(enriched)));
  });

  test("a task's console.log goes to stderr: stdout holds the records only (threads and processes)", { timeout: 20_000 }, async () => {
    const records = transactions(30);
    for (const runtime of ['--threads', '--processes']) {
      const run = await runCli(['map', tasksPath, 'chatty', runtime, '2'], { input: ndjson(records) });
      expect(run.code).toBe(EXIT_OK);
      expect(run.stdout).toBe(ndjson(records));
      const printed = run.stderr.trim().split('\n').sort();
      expect(printed).toEqual(records.flatMap((r) => [`processing record ${r.id}`, `raw write for ${r.id}`]).sort());
    }
  });

  test('a task module whose top-level await never settles: exit 2 after the start-up bound, even with --timeout (no hang)', { timeout: 30_000 }, async () => {
    const endless = join(repo, 'test/faults/fixtures/modules/endless-import.mjs');
    const run = await runCli(['map', endless, 'never', '--threads', '1', '--timeout', '500'], { input: ndjson(transactions(3)) });
    expect(run.code).toBe(EXIT_FATAL);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/did not finish within startTimeout \(10000 ms\)/);
  });

  test('reports invalid lines and task errors with their line numbers, in line order, and exits 1', { timeout: 20_000 }, async () => {
    const lines = [
      JSON.stringify({ id: 1, qty: 1, price: 2 }), // 1
      '{"id": 2, "qty": ', // 2: invalid
      JSON.stringify({ id: 3, qty: 2, price: 1.5 }), // 3
      '', // 4: blank, skipped
      JSON.stringify({ id: 5, qty: 1, price: 1, fail: true }), // 5: task error
      'not json', // 6: invalid
      JSON.stringify({ id: 7, qty: 3, price: 1 }), // 7
      JSON.stringify({ id: 8, qty: 1, price: 9, fail: true }), // 8: task error
      JSON.stringify({ id: 9, qty: 2, price: 2 }), // 9, no newline at the end
    ];
    const input = file('mixed.ndjson', lines.join('\n'));
    const run = await runCli(['map', tasksPath, 'enrich', input, '--threads', '2', '--chunksize', '2']);
    expect(run.code).toBe(EXIT_RECORD_FAILED);
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([1, 3, 7, 9]);
    expect(run.stdout.split('\n')[0]).toBe(JSON.stringify({ id: 1, qty: 1, price: 2, total: 2 }));
    const reports = run.stderr.trim().split('\n');
    expect(reports.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['line 2', 'line 5', 'line 6', 'line 8']);
    expect(reports[0]).toMatch(/^line 2: invalid JSON: /);
    expect(reports[1]).toBe('line 5: RangeError: bad amount in record 5');
    expect(reports[2]).toMatch(/^line 6: invalid JSON: Unexpected token/);
    expect(reports[3]).toBe('line 8: RangeError: bad amount in record 8');
  });

  test('--unordered writes each result when it is ready: records pass a held one', { timeout: 20_000 }, async () => {
    await using gate = await openGate();
    const records = transactions(40).map((r) => ({ ...r, ...(r.id === 1 ? { gate: gate.path } : {}) }));
    const running = startCli(['map', tasksPath, 'gated', '--threads', '2', '--unordered'], { input: ndjson(records) });
    await gate.started(1);
    // Record 1 is held on one worker; records run by the other one come out meanwhile. (How many
    // depends on how many the pool pipelined behind record 1: those wait for it.)
    const before = await running.lines(1);
    expect(before[0]).not.toBe('1');
    gate.release(1);
    const run = await running.done;
    expect(run.code).toBe(EXIT_OK);
    const ids = run.stdout.trim().split('\n').map(Number);
    expect(ids.indexOf(1)).toBeGreaterThan(0);
    expect([...ids].sort((a, b) => a - b)).toEqual(records.map((r) => r.id));
  });

  test('ordered, the same held record holds back every line after it', { timeout: 20_000 }, async () => {
    await using gate = await openGate();
    const records = transactions(40).map((r) => ({ ...r, ...(r.id === 1 ? { gate: gate.path } : {}) }));
    const running = startCli(['map', tasksPath, 'gated', '--threads', '2'], { input: ndjson(records) });
    await gate.started(1);
    gate.release(1);
    const run = await running.done;
    expect(run.code).toBe(EXIT_OK);
    expect(run.stdout).toBe(records.map((r) => `${r.id}\n`).join(''));
  });

  test('--processes runs the records in child processes, in order; a crash fails only its record', { timeout: 20_000 }, async () => {
    const records = transactions(60).map((r) => ({ ...r, crash: r.id === 30 }));
    const running = startCli(['map', tasksPath, 'crashy', '--processes', '2'], { input: ndjson(records) });
    const run = await running.done;
    expect(run.code).toBe(EXIT_RECORD_FAILED);
    expect(run.stdout).toBe(records.filter((r) => r.id !== 30).map((r) => `${r.id}\n`).join(''));
    expect(run.stderr).toMatch(/^line 30: WorkerCrashedError: The worker running task crashy exited with code 7\n$/);

    const second = startCli(['map', tasksPath, 'pid', '--processes', '2', '--chunksize', '4'], { input: ndjson(transactions(20)) });
    const pids = await second.done;
    expect(pids.code).toBe(EXIT_OK);
    const out = pids.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; pid: number });
    expect(out.map((o) => o.id)).toEqual(transactions(20).map((r) => r.id));
    // Not the command's own process: its workers.
    expect(out.every((o) => o.pid !== second.child.pid && o.pid !== process.pid)).toBe(true);
  });

  test('--progress draws a progress line and a summary on stderr, apart from the error lines', { timeout: 20_000 }, async () => {
    const records = transactions(500).map((r) => ({ ...r, fail: r.id === 250 }));
    const run = await runCli(['map', tasksPath, 'enrich', '--threads', '2', '--progress'], { input: ndjson(records) });
    expect(run.code).toBe(EXIT_RECORD_FAILED);
    const shown = run.stderr.split('\r\x1b[2K').join('\n').split('\n').filter(Boolean);
    expect(shown).toContain('line 250: RangeError: bad amount in record 250');
    expect(shown.at(-1)).toMatch(/^500 records in \d+\.\d s \([\d,]+\/s\), 1 failed$/);
    expect(run.stdout.trim().split('\n')).toHaveLength(499);
  });

  test('without --progress and with stderr not a terminal there is no progress line', { timeout: 20_000 }, async () => {
    const run = await runCli(['map', tasksPath, 'keepOnly', '--threads', '1'], { input: ndjson([{ id: 1 }, { id: 2, keep: false }, { id: 3 }]) });
    expect(run).toEqual({ code: EXIT_OK, stdout: '{"id":1}\n{"id":3}\n', stderr: '' });
  });

  test('a reader that goes away (EPIPE) ends the run quietly', { timeout: 20_000 }, async () => {
    const input = file('many.ndjson', ndjson(transactions(20_000)));
    const running = startCli(['map', tasksPath, 'enrich', input, '--threads', '2']);
    await running.lines(1);
    running.child.stdout!.destroy();
    const run = await running.done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT_OK);
  });
});

describe('rxjs-pools map, in process', () => {
  test('the progress line is on by default when stderr is a terminal, and --no-progress turns it off', { timeout: 10_000 }, async () => {
    const input = ndjson(transactions(50));
    const tty = await inProcess(['map', tasksPath, 'enrich', '--threads', '1'], input, true);
    expect(tty.code).toBe(EXIT_OK);
    expect(tty.stderr).toMatch(/\r\x1b\[2K50 records in \d+\.\d s \([\d,]+\/s\)\n$/);
    const off = await inProcess(['map', tasksPath, 'enrich', '--threads', '1', '--no-progress'], input, true);
    expect(off).toEqual({ code: EXIT_OK, stdout: tty.stdout, stderr: '' });
  });

  test('a long run of invalid lines behind a held record pauses the reads, then is reported in line order', { timeout: 10_000 }, async () => {
    await using gate = await openGate();
    const lines = [JSON.stringify({ id: 1, gate: gate.path }), ...Array.from({ length: 3000 }, (_, i) => `oops ${i}`), JSON.stringify({ id: 3002 })];
    let reads = 0;
    const stdin = Readable.from(
      (function* () {
        for (const line of lines) {
          reads++;
          yield `${line}\n`;
        }
      })(),
      { objectMode: false, highWaterMark: 16 },
    );
    const err = sink();
    const running = inProcess(['map', tasksPath, 'gated', '--threads', '2'], stdin, false, err);
    await gate.started(1);
    // Record 1 is held: the reports of the lines after it wait, up to a bound, and reading stops.
    await quiet(() => true, () => reads);
    expect(reads).toBeLessThan(1100 + 16 + 2);
    expect(reads).toBeGreaterThan(1000);
    expect(err.text()).toBe('');
    gate.release(1);
    const run = await running;
    expect(run.code).toBe(EXIT_RECORD_FAILED);
    expect(run.stdout).toBe('1\n3002\n');
    const reported = run.stderr.trim().split('\n');
    expect(reported.map((l) => Number(/^line (\d+):/.exec(l)![1]))).toEqual(Array.from({ length: 3000 }, (_, i) => i + 2));
  });

  test('--timeout fails a record that runs too long; the others go through', { timeout: 10_000 }, async () => {
    await using gate = await openGate();
    const records = transactions(5).map((r) => ({ ...r, ...(r.id === 2 ? { gate: gate.path } : {}) }));
    // Record 2 is never released: only the timeout can end it.
    const run = await inProcess(['map', tasksPath, 'gated', '--threads', '2', '--timeout', '400'], ndjson(records));
    expect(run.code).toBe(EXIT_RECORD_FAILED);
    expect(run.stdout).toBe('1\n3\n4\n5\n');
    expect(run.stderr).toBe('line 2: TaskTimeoutError: Task gated timed out after 400 ms; its worker was replaced\n');
  });
});

describe('rxjs-pools map, usage and fatal errors (exit 2)', () => {
  test('--help documents the command, its options and exit codes', { timeout: 5_000 }, async () => {
    const run = await inProcess(['--help']);
    expect(run.code).toBe(EXIT_OK);
    for (const text of ['Usage: rxjs-pools map <module> <export> [options] [file]', '--threads <n>', '--processes <n>', '--chunksize <n|auto>', '--unordered', 'Exit status:']) {
      expect(run.stdout).toContain(text);
    }
    expect((await inProcess(['map', '-h'])).stdout).toBe(run.stdout);
  });

  test.each([
    [[], /missing command/],
    [['reduce', 'x', 'y'], /unknown command "reduce"/],
    [['map', tasksPath], /needs a <module> and an <export>/],
    [['map', tasksPath, 'enrich', '--threads', '2', '--processes', '2'], /exclude each other/],
    [['map', tasksPath, 'enrich', '--threads', '0'], /--threads expects a whole number from 1 and up, got "0"/],
    [['map', tasksPath, 'enrich', '--chunksize', 'many'], /--chunksize expects a whole number from 1 and up, or auto, got "many"/],
    [['map', tasksPath, 'enrich', '--fast'], /Unknown option '--fast'/],
    [['map', 'nowhere.mjs', 'enrich'], /cannot find the module nowhere\.mjs/],
    [['map', tasksPath, 'enrich', 'a.ndjson', 'b.ndjson'], /unexpected argument "b\.ndjson"/],
  ])('%j is a usage error', { timeout: 5_000 }, async (argv, message) => {
    const run = await inProcess(argv as string[]);
    expect(run.code).toBe(EXIT_FATAL);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Try 'rxjs-pools --help'\.\n$/);
    expect(run.stdout).toBe('');
  });

  test('a missing export or one that is not a function fails the run once, even on empty input', { timeout: 10_000 }, async () => {
    const missing = await inProcess(['map', tasksPath, 'nope', '--threads', '1'], ndjson([{ id: 1 }, { id: 2 }]));
    expect(missing.code).toBe(EXIT_FATAL);
    expect(missing.stderr).toMatch(/^rxjs-pools: cannot run nope from .*tasks\.mjs: TypeError: .* has no export `nope` \(it exports: .*enrich.*\)\n$/);
    const notFn = await inProcess(['map', tasksPath, 'notAFunction', '--threads', '1'], '');
    expect(notFn.code).toBe(EXIT_FATAL);
    expect(notFn.stderr).toMatch(/Export `notAFunction` of .* is not a function/);
  });

  test('an input file that does not exist is fatal', { timeout: 5_000 }, async () => {
    const run = await inProcess(['map', tasksPath, 'enrich', join(dir, 'absent.ndjson')]);
    expect(run).toMatchObject({ code: EXIT_FATAL, stdout: '' });
    expect(run.stderr).toMatch(/cannot read .*absent\.ndjson: no such file/);
  });

  test('--version prints the package version', { timeout: 5_000 }, async () => {
    const run = await inProcess(['--version']);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
