/**
 * What must hold for flatMapOnThreads and flatMapOnProcesses alike (one suite, two runtimes): a
 * pool of its own per subscription, started lazily and shut down however the subscription ends,
 * with its options split and checked. The streaming semantics are flatMapOnPool's
 * (flatMapOnPool.spec.ts); synchronisation is by the gate's socket only.
 */
import { Subject, from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import { describe, expect, test } from 'vitest';
import type { StreamFn, Task } from '../../src/pools/Pool.ts';
import { task } from '../../src/pools/task.ts';
import { openGate } from '../fixtures/gate.ts';
import type { RecordedPool } from './runtime-suite.ts';

type FlatOperator = <T, R>(fn: Task<StreamFn<[T], R>>, options?: Record<string, unknown>) => OperatorFunction<T, R>;

const tasks = new URL('../fixtures/stream-tasks.mjs', import.meta.url);
const countForeverItem = task<(item: { path: string; key: string }) => AsyncGenerator<number>>(tasks, 'countForeverItem');

export function flatOwnPoolSuite(name: string, operator: FlatOperator, created: RecordedPool[], poolOnly: string): void {
  const latest = () => created[created.length - 1]!;

  describe(`${name}: a pool per subscription`, () => {
    test('no worker before the first value; values in input order; the pool is shut down on complete and on error', async () => {
      const input = new Subject<string>();
      const out: string[] = [];
      const done = new Promise<void>((resolve, reject) =>
        input.pipe(operator(function* (word: string) { yield* word; }, { maxWorkers: 2 })).subscribe({ next: (c) => out.push(c as string), error: reject, complete: resolve }),
      );
      const pool = latest();
      expect(pool.stats.workers).toBe(0);
      for (const word of ['ab', 'cde', 'f']) input.next(word);
      input.complete();
      await done;
      expect(out.join('')).toBe('abcdef');
      expect(pool.shutdowns).toEqual([{ wait: false, cancelPending: true }]);
      const failing = async function* (n: number) {
        yield n;
        if (n === 2) throw new RangeError(`no ${n}`);
      };
      const error = await lastValueFrom(from([1, 2, 3]).pipe(operator(failing, { maxWorkers: 2 }), toArray())).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect(latest().shutdowns).toEqual([{ wait: false, cancelPending: true }]);
    });

    test("unsubscribing closes the running stream (its finally runs) and shuts the pool down: no worker is left", async () => {
      await using gate = await openGate();
      const seen: number[] = [];
      let first!: () => void;
      const firstValue = new Promise<void>((resolve) => (first = resolve));
      const live = from([{ path: gate.path, key: 'own' }]).pipe(operator(countForeverItem, { maxWorkers: 1, buffersize: 2 })).subscribe((v) => {
        seen.push(v);
        first();
      });
      const pool = latest();
      await firstValue;
      live.unsubscribe();
      await gate.started('own:finally'); // the generator was closed, not killed
      await pool.shutdown(); // resolves once the worker has exited
      expect(pool.stats).toMatchObject({ workers: 0, state: 'closed', failed: 0 });
      expect(seen[0]).toBe(1);
    });

    test('options are split between the operator and the pool, and all checked when the operator is made', () => {
      expect(() => operator((x: number) => [x], { maxWorkers: 0 })).toThrow(/Expected `maxWorkers` to be an integer from 1 and up, got 0/);
      expect(() => operator((x: number) => [x], { buffersize: 0 })).toThrow(/Expected `buffersize` to be an integer from 1 and up, got 0/);
      expect(() => operator((x: number) => [x], { [poolOnly]: undefined, nope: 1 })).toThrow(
        new RegExp(`Unknown ${name} option \`nope\`; known options: concurrency, ordered, buffersize, maxBuffered, overflow, onDrop \\(operator\\), .*${poolOnly}.* \\(pool\\)`),
      );
      expect(() => operator((x: number) => [x], { chunksize: 2 })).toThrow(/Unknown .* option `chunksize`/);
    });
  });
}
