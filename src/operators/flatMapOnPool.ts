import { Observable, takeWhile, type OperatorFunction } from 'rxjs';
import { AbortError } from '../errors.ts';
import type { Pool, StreamFn, Task } from '../pools/Pool.ts';
import { StreamWindow } from '../pools/stream-window.ts';
import { expectStreamingPool, expectTask, resolveFlatMapOnPoolOptions, type FlatMapOnPoolOptions } from './options.ts';
import { admitter } from './overflow.ts';

/**
 * Runs a streaming task on a pool for each value and emits every value each task yields:
 * `fn(value)` is an async generator function (or a generator function, or returns an (async)
 * iterable) that runs on a worker and streams its values back as it produces them. In input
 * order by default (all of the first task's values, then the second's, as `Array.prototype.flatMap`
 * does), with at most `concurrency` streams in flight.
 *
 * The pool is shared and left open; unsubscribing cancels only this subscription's streams. For a
 * pool per subscription use `flatMapOnThreads` or `flatMapOnProcesses`.
 *
 * ```text
 * source   ab|                    a's task yields 1, 2, 3; b's yields 4, 5; each value takes 3 frames
 *
 *      flatMapOnPool(pool, fn, { concurrency: 2 })
 *
 * output   ---1--2--(345|)        b's 4 and 5 came at frames 4 and 7, and waited for a's end
 *
 *      flatMapOnPool(pool, fn, { concurrency: 2, ordered: false })
 *
 * output   ---14-25-(3|)          as they arrive
 * ```
 *
 * **Backpressure, across the worker boundary.** A stream's worker yields at most `buffersize`
 * values ahead of what was emitted: it holds that many credits and is granted more only as its
 * values are emitted, half a window at a time. Ordered, the values of a later stream that arrive
 * early wait for the earlier streams, at most `buffersize` of them, and then that stream's worker
 * waits too. Streams that ended while an earlier one runs wait in a reorder bound of
 * `concurrency`; while it is full no new stream starts. So at most
 * `(2 × concurrency − 1) × buffersize` values are held between the workers and the output, plus
 * the source values waiting for a slot (`maxBuffered`, `overflow` and `onDrop` as in `mapOnPool`).
 *
 * **Errors.** A task's error (thrown mid-stream, with its name, message, stack, code, cause and own
 * fields) is emitted after every value before it: all earlier streams' values and its own;
 * later streams are cancelled at once, no new one starts and later source values are ignored.
 * Unordered, it is emitted when it arrives. A worker crash is `WorkerCrashedError` after the values
 * already emitted (nothing twice); a task past the pool's `taskTimeout` (counted while it runs, not
 * while it waits for credit) is `TaskTimeoutError`. A source error is passed on at once and
 * cancels everything in flight.
 *
 * **End.** The output completes after the source completes and every stream has ended and been
 * emitted. Unsubscribing cancels every stream in flight: a queued one never starts; a running
 * one's iterator is returned in its worker (its `finally` blocks run), and the worker goes back to
 * serving other tasks. The pool stays open.
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { ThreadPool, flatMapOnPool } from 'rxjs-pools';
 *
 * const pool = new ThreadPool({ maxWorkers: 2 });
 * async function* countdown(n: number) {
 *   for (let i = n; i > 0; i--) yield `${n}:${i}`;
 * }
 * from([3, 2])
 *   .pipe(flatMapOnPool(pool, countdown))
 *   .subscribe({ next: (x) => console.log(x), complete: () => pool.shutdown() });
 * // 3:3
 * // 3:2
 * // 3:1
 * // 2:2
 * // 2:1
 * ```
 *
 * @see flatMapOnThreads, flatMapOnProcesses — a pool of their own per subscription.
 * @see pool.stream — one streaming task as an async iterable, with the same credits.
 * @see mapOnPool — one result per value.
 * @see VirtualPool (rxjs-pools/testing) — streams in virtual time (`duration` frames per value).
 * @param pool Runs the streams: a `ThreadPool`, `ProcessPool`, `VirtualPool`, or any `Pool` with `runStream`.
 * @param fn The streaming task, receiving one value: a self-contained (async) generator function
 * (sent by its source) or a `task(module, name)` reference to one.
 * @param options `concurrency`, `ordered`, `buffersize`, `maxBuffered`, `overflow`, `onDrop`;
 * validated now, so a bad option throws here rather than on subscribe.
 * @returns An operator emitting every value `fn(value)` yields, for each source value.
 */
export function flatMapOnPool<T, R>(pool: Pool, fn: Task<StreamFn<[T], R>>, options: FlatMapOnPoolOptions<T> = {}): OperatorFunction<T, R> {
  expectStreamingPool('flatMapOnPool', pool);
  expectTask('flatMapOnPool', fn);
  const { concurrency, ordered, buffersize, maxBuffered, overflow, onDrop } = resolveFlatMapOnPoolOptions('flatMapOnPool', options);

  return (source) =>
    new Observable<R>((subscriber) => {
      let sourceDone = false;
      let pumping = false;
      let again = false;

      /** Errors the output now: every stream in flight is cancelled first. */
      const fail = (error: unknown) => {
        if (subscriber.closed) return;
        window.close(new AbortError('flatMapOnPool: the stream errored', { cause: error }));
        subscriber.error(error);
      };

      const emit = (value: R) => {
        subscriber.next(value);
        return !subscriber.closed;
      };

      /** Emits what can be emitted, starts what can start, completes when all is done; re-entrant calls ask for another round. */
      const pump = () => {
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            const failure = window.drain(emit);
            if (subscriber.closed) return;
            if (failure) return fail(failure);
            try {
              window.fill();
            } catch (error) {
              return fail(error); // a pool that throws from runStream errors the output at once
            }
            if (sourceDone && window.idle) return subscriber.complete();
          } while (again);
        } finally {
          pumping = false;
        }
      };

      const window = new StreamWindow<T, R>(pool, fn, { ordered, concurrency, buffersize, label: 'flatMapOnPool' }, () => {
        try {
          pump();
        } catch (bug) {
          fail(bug); // never let an exception escape into the pool
        }
      });

      const admit = admitter<T>({ maxBuffered, overflow, onDrop, fail, waitingFor: () => `one of ${window.running} streams` });

      const next = (value: T) => {
        if (window.stopped || subscriber.closed) return; // the outcome is decided: an error
        const { input } = window;
        if (window.canStart()) {
          try {
            window.fill(); // only non-empty when called re-entrantly, before the pump got to it
            if (input.length === 0 && window.canStart()) return window.start(value);
          } catch (error) {
            return fail(error);
          }
        }
        admit(input, value);
      };

      // As in mapOnPool: takeWhile ends a synchronous source on its next value once the output has ended.
      const upstream = source.pipe(takeWhile(() => !subscriber.closed)).subscribe({
        next,
        error: (error: unknown) => fail(error),
        complete: () => {
          sourceDone = true;
          pump();
        },
      });

      return () => {
        upstream.unsubscribe();
        window.close(new AbortError('flatMapOnPool: unsubscribed'));
      };
    });
}
