/**
 * VirtualPool on its own: the Pool contract in virtual time (FIFO, at most maxWorkers running, a
 * batch takes the sum of its durations, cancel, never a synchronous or a late callback), and how
 * it runs tasks (inline at completion, per-item errors, refusing what it cannot virtualise).
 */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { TaskError } from '../../src/errors.ts';
import type { BatchResult } from '../../src/pools/Pool.ts';
import { task } from '../../src/pools/task.ts';
import { VirtualPool } from '../../src/testing/index.ts';

type Answer = { at: number; error: Error | undefined; result: BatchResult<unknown> | undefined };

function virtual(body: (scheduler: TestScheduler) => void): void {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(() => body(scheduler));
}

describe('VirtualPool', () => {
  test('runs at most maxWorkers batches; the rest wait FIFO; a batch takes the sum of its durations', () => {
    virtual((scheduler) => {
      const pool = new VirtualPool({ maxWorkers: 2, duration: (x: number) => x });
      const answers: Record<string, Answer> = {};
      const submit = (name: string, items: number[]) =>
        pool.runBatch((x: number) => x * 10, items, (error, result) => (answers[name] = { at: scheduler.now(), error, result }));
      submit('A', [3]);
      submit('B', [1, 2, 4]); // 7 frames
      submit('C', [2]);
      submit('D', [1]);
      expect([pool.running, pool.queued]).toEqual([2, 2]);
      scheduler.flush();
      expect(Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, [a.at, a.result?.values]]))).toEqual({
        A: [3, [30]],
        B: [7, [10, 20, 40]],
        C: [5, [20]], // started when A finished (3)
        D: [6, [10]], // started when C finished (5)
      });
      expect(pool.peakRunning).toBe(2);
      expect(pool.log.map(({ startedAt, endedAt }) => [startedAt, endedAt])).toEqual([
        [0, 3],
        [0, 7],
        [3, 5],
        [5, 6],
      ]);
    });
  });

  test('never calls back synchronously, not even for a zero duration', () => {
    virtual((scheduler) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 0 });
      let called = false;
      pool.runBatch((x: number) => x, [1], () => (called = true));
      expect(called).toBe(false);
      scheduler.flush();
      expect(called).toBe(true);
    });
  });

  test('cancel: a queued batch never runs; a running one frees its slot for the next at once; idempotent; no callback after', () => {
    virtual((scheduler) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 5 });
      const ran: number[] = [];
      const called: number[] = [];
      const fn = (x: number) => ran.push(x);
      const cancel1 = pool.runBatch(fn, [1], () => called.push(1));
      const cancel2 = pool.runBatch(fn, [2], () => called.push(2));
      pool.runBatch(fn, [3], () => called.push(3));
      cancel2();
      scheduler.schedule(() => {
        cancel1();
        cancel1();
      }, 2);
      scheduler.flush();
      expect(ran).toEqual([3]);
      expect(called).toEqual([3]);
      expect(pool.log.map(({ state, startedAt, endedAt }) => [state, startedAt, endedAt])).toEqual([
        ['cancelled', 0, 2],
        ['cancelled', undefined, 0],
        ['done', 2, 7], // got the slot when batch 1 was cancelled at 2
      ]);
      expect([pool.running, pool.queued]).toEqual([0, 0]);
    });
  });

  test('runs each item at completion, in its own try/catch; a non-Error throw becomes a TaskError with the value', () => {
    virtual((scheduler) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 1 });
      const ranAt: number[] = [];
      let answer: Answer | undefined;
      const fn = (x: number) => {
        ranAt.push(scheduler.now());
        if (x === 2) throw new RangeError('two');
        if (x === 3) throw 'three';
        return x;
      };
      pool.runBatch(fn, [1, 2, 3, 4], (error, result) => (answer = { at: scheduler.now(), error, result }));
      scheduler.flush();
      expect(ranAt).toEqual([4, 4, 4, 4]);
      expect(answer!.error).toBeUndefined();
      expect(answer!.result!.values[0]).toBe(1);
      expect(answer!.result!.values[3]).toBe(4);
      const errors = answer!.result!.errors!;
      expect(errors[0]).toBeUndefined();
      expect(errors[1]).toBeInstanceOf(RangeError);
      expect(errors[2]).toBeInstanceOf(TaskError);
      expect((errors[2] as TaskError).value).toBe('three');
      expect(errors[2]!.message).toBe("Task threw a non-Error value: 'three'");
    });
  });

  test('a task returning a Promise fails that item with a clear TypeError (virtual time cannot wait)', () => {
    virtual((scheduler) => {
      const pool = new VirtualPool({ maxWorkers: 1, duration: () => 1 });
      let answer: Answer | undefined;
      pool.runBatch(async (x: number) => x, [1], (error, result) => (answer = { at: scheduler.now(), error, result }));
      scheduler.flush();
      const error = answer!.result!.errors![0]!;
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/returned a Promise .*virtual time cannot wait for it/);
    });
  });

  test('refuses a task(module, name) reference and bad durations at submit, with a clear TypeError', () => {
    const pool = new VirtualPool({ maxWorkers: 1, duration: (x: number) => x });
    const ref = task<(x: number) => number>('file:///work/tasks.js', 'double');
    expect(() => pool.runBatch(ref, [1], () => {})).toThrow(
      'VirtualPool runs inline functions only, got a task(module, name) reference (double in file:///work/tasks.js)',
    );
    expect(() => pool.runBatch((x: number) => x, [-1], () => {})).toThrow(
      'Expected `duration` to return a number of frames from 0 and up, got -1 (number) for -1 (number)',
    );
    expect(() => pool.runBatch((x: number) => x, [Number.NaN], () => {})).toThrow('got NaN (number)');
    expect(pool.log).toHaveLength(0); // nothing was queued
  });
});
