/**
 * Errors go to the task that caused them, and only there (issue 12): an error escaping a task
 * after it returned fails no other task and is reported through `onEscapedError`; a task's own
 * errors are never rebuilt as the library's classes by name; an error whose getter throws still
 * arrives; a process that exits loses none of the answers it produced, and its crash is pinned on
 * the task that exited.
 */
import { describe, expect, test } from 'vitest';
import { AbortError, PoolError, TaskTimeoutError, WorkerCrashedError } from '../../src/index.ts';
import { openRendezvous, outcome, rejection, runtimes, t, within } from './fixtures/harness.ts';

const DEADLINE = 20_000;

describe.each(runtimes)('$name', (rt) => {
  describe('an error escaping a task after it returned', () => {
    for (const [how, late] of [
      ['a throw in a timer', t.lateThrow],
      ['an unhandled rejection', t.lateReject],
    ] as const) {
      test(`${how}: the task running meanwhile resolves with its own result; the error is reported with the task that caused it`, async () => {
        await using rv = await openRendezvous();
        const reported: { error: Error; task: string | undefined }[] = [];
        let onReport!: () => void;
        const reportedOnce = new Promise<void>((resolve) => (onReport = resolve));
        await using pool = rt.make({ maxWorkers: 1, onEscapedError: (error, task) => (reported.push({ error, task }), onReport()) });
        expect(await pool.submit(late, ['late'])).toBe('returned');
        rv.hold('innocent');
        const innocent = pool.submit(t.hello, [rv.path, 'innocent']);
        const ran = await rv.started('innocent'); // running on the same worker when the error escapes
        await within(reportedOnce, DEADLINE, 'the report');
        rv.release('innocent');
        expect(await innocent).toMatchObject({ key: 'innocent', pid: ran.pid });
        expect(reported).toHaveLength(1);
        expect(reported[0]!.task).toBe(late.name);
        expect(reported[0]!.error).toMatchObject({ name: 'EscapedError', message: 'late' });
        expect(pool.stats.failed).toBe(0);
        expect(await pool.submit(t.echo, ['next'])).toBe('next'); // on a fresh worker: the one in doubt left
      }, DEADLINE);
    }

    test('while its worker is idle, the error is reported, never swallowed; by default as a warning', async () => {
      const warnings: Error[] = [];
      let onWarning!: () => void;
      const warned = new Promise<void>((resolve) => (onWarning = resolve));
      const listener = (warning: Error) => {
        if (warning.name !== 'EscapedTaskError') return;
        warnings.push(warning);
        onWarning();
      };
      process.on('warning', listener);
      try {
        await using pool = rt.make({ maxWorkers: 1 });
        expect(await pool.submit(t.lateThrow, ['while idle'])).toBe('returned');
        await within(warned, DEADLINE, 'the warning');
        expect(warnings[0]!.message).toMatch(/An error escaped task lateThrow after it returned: EscapedError: while idle/);
        expect(await pool.submit(t.echo, [1])).toBe(1);
      } finally {
        process.off('warning', listener);
      }
    }, DEADLINE);
  });

  describe("a task's own errors keep their own identity", () => {
    test("a DOMException AbortError (an aborted fetch) is not the library's AbortError, and counts as a failure, not a cancellation", async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const error = await rejection(pool.submit(t.throwLookalike, ['dom-abort']));
      expect(error.name).toBe('AbortError');
      expect(error).not.toBeInstanceOf(AbortError);
      expect(error).not.toBeInstanceOf(PoolError);
      expect(pool.stats).toMatchObject({ failed: 1, cancelled: 0 });
    }, DEADLINE);

    test("a user's class named TaskTimeoutError stays the user's", async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const error = await rejection(pool.submit(t.throwLookalike, ['named-timeout']));
      expect(error).toMatchObject({ name: 'TaskTimeoutError', message: 'my own timeout' });
      expect(error).not.toBeInstanceOf(TaskTimeoutError);
      expect('timeout' in error).toBe(false);
    }, DEADLINE);

    test('an error with an enumerable getter that throws arrives, naming what the getter threw; the worker survives', async () => {
      await using pool = rt.make({ maxWorkers: 1 });
      const first = await pool.submit(t.whoAmI, []);
      const error = await rejection(pool.submit(t.throwLookalike, ['getter']));
      expect(error.message).toBe('has a getter that throws');
      expect(String(error.details)).toMatch(/getter threw: Error: no details/);
      expect(await pool.submit(t.whoAmI, [])).toBe(first); // the same worker
    }, DEADLINE);
  });

  test('a worker that exits loses none of the answers it produced; the crash is pinned on the task that exited', async () => {
    await using pool = rt.make({ maxWorkers: 1 });
    for (let i = 0; i < 20; i++) await pool.submit(t.answerOrExit, ['small']); // measured fast: the next ones are pipelined
    for (let round = 0; round < 3; round++) {
      const bigs = Array.from({ length: 8 }, () => outcome(pool.submit(t.answerOrExit, ['big'])));
      const exited = rejection(pool.submit(t.answerOrExit, ['exit']));
      for (const result of await Promise.all(bigs)) expect(result).toEqual({ ok: true, value: 'x'.repeat(1 << 20) });
      const error = await exited;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error.exitCode).toBe(5);
      expect(error.message).toMatch(/running task answerOrExit exited with code 5/);
    }
  }, DEADLINE);
});
