/**
 * Children never outlive their parent. For each way a parent dies — SIGTERM, SIGINT, SIGHUP,
 * SIGKILL, an uncaught exception — a parent (a user script with a ProcessPool, and the CLI with
 * `--processes 2`) starts two children that spin in synchronous code (so only the watchdog thread
 * can notice, not the event loop), is killed that way once both have reported their pids, and
 * then, polled up to a deadline, neither child may be running.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ProcessPool, task } from '../../src/index.ts';
import { fixture, openRendezvous, scratch } from './fixtures/harness.ts';
import { DEATHS, diedAsTold, kill, reap, startDoomed, untilGone, type ParentKind } from './fixtures/doomed.ts';
import type * as Spin from './fixtures/spin-tasks.mjs';

/** "Within a few seconds": the watchdog looks every 500 ms; the rest is slack for a loaded machine. */
const GONE_WITHIN = 5_000;
const WORKERS = 2;

describe.each([
  { kind: 'script' as ParentKind, name: 'a user script with a ProcessPool' },
  { kind: 'cli' as ParentKind, name: 'the CLI (map --processes 2)' },
])('$name', ({ kind }) => {
  // One at a time: ten parents (under tsx) and twenty spinning children at once starve each other on 2 cores.
  test.for([...DEATHS])(`dies by %s while its children spin: within ${GONE_WITHIN / 1000} s no child is left`, { timeout: 60_000 }, async (how, { expect }) => {
    await using rv = await openRendezvous();
    const doomed = await startDoomed(kind, rv, `${kind}-${how.replace(' ', '-')}`, WORKERS, 20_000);
    try {
      expect(doomed.pids).toHaveLength(WORKERS);
      expect(new Set(doomed.pids).size).toBe(WORKERS); // one process each
      const exit = await kill(doomed, how);
      expect(diedAsTold(how, exit, doomed.stderr()), `exit ${JSON.stringify(exit)}, stderr:\n${doomed.stderr()}`).toBe(true);
      const { ms, left } = await untilGone(doomed.pids, GONE_WITHIN);
      expect(left, `children still running ${Math.round(ms)} ms after the parent died`).toEqual([]);
      console.log(`${kind}, ${how}: both children gone ${Math.round(ms)} ms after the parent`);
    } finally {
      reap(doomed.pids);
    }
  });
});

test('while the parent lives the watchdog never fires and never holds a child: tasks that spin for 1.5 s (three looks at the parent) return, and at shutdown each child leaves by itself with code 0', async () => {
  using exits = scratch();
  const spinFor = task<typeof Spin.spinFor>(fixture('spin-tasks.mjs'), 'spinFor');
  const pool = new ProcessPool({
    maxWorkers: 2,
    execArgv: ['--import', fileURLToPath(fixture('report-exit.mjs'))],
    env: { ...process.env, RXJS_POOLS_EXIT_DIR: exits.dir },
  });
  const pids = await Promise.all([pool.submit(spinFor, [1_500]), pool.submit(spinFor, [1_500])]);
  expect(new Set(pids).size).toBe(2);
  await pool.shutdown();
  // A child that something kept alive past the exit grace is SIGKILLed by the pool: no exit event, no file.
  const codes = pids.map((pid) => (exits.has(String(pid)) ? readFileSync(join(exits.dir, String(pid)), 'utf8') : 'killed (no exit event)'));
  expect(codes).toEqual(['0', '0']);
}, 30_000);
