import { Observable, takeWhile, type OperatorFunction } from 'rxjs';
import { AbortError } from '../errors.ts';
import type { Pool, Task } from '../pools/Pool.ts';
import { BatchWindow, failureOf } from '../pools/window.ts';
import { expectPool, expectTask, resolveMapOnPoolOptions, type MapOnPoolOptions } from './options.ts';
import { admitter } from './overflow.ts';

/**
 * Maps each value on a pool of workers: `fn(value)` runs on a worker and its result is emitted,
 * in input order by default, with at most `concurrency` batches in flight.
 *
 * The pool is shared and left open: many pipelines can use one pool, and unsubscribing cancels
 * only this subscription's batches. For a pool per subscription use `mapOnThreads` or
 * `mapOnProcesses`.
 *
 * ```text
 * source   -a-b-c-|          durations: a 6 frames, b 2, c 2
 *
 *      mapOnPool(pool, x => x * 10, { concurrency: 3 })
 *
 * output   -------(ABC|)     A = 10, B = 20, C = 30: b finished at frame 5 but waited in
 *                            the reorder buffer for a, which finished at frame 7 (with c)
 * ```
 * (See `marbles/` for every scenario as text and as a picture.)
 *
 * **Shape.** With `concurrency: 1` it emits exactly what `concatMap` over the task would, and with
 * `ordered: false` exactly what `mergeMap(…, concurrency)` would (the equivalence specs prove both
 * in virtual time); ordered with `concurrency` above 1 it adds a bounded reorder buffer, which RxJS
 * lacks. It is written by hand on the window core (`src/pools/window.ts`, shared with `pool.map`
 * and `mapSettled`) rather than composed from `mergeMap` and `concatMap`: the composition was
 * measured to lose the tight reorder bound, batching on demand, the overflow policy and fail-fast
 * cancellation.
 *
 * **Flow.** Each value goes to a free slot at once, alone (a slot is one batch in flight). Values
 * that arrive while every slot is busy wait in an input buffer; when a slot frees, the next batch
 * takes up to `chunksize` of them — it never waits to fill a batch. By default the pool decides
 * both bounds for the task being run (`concurrency` from its `batching` hint, `chunksize: 'auto'`
 * from the task's measured time): tiny tasks get deep pipelines and big batches, slow ones one
 * value per batch and about two batches per worker. A `VirtualPool` has no hint: `maxWorkers`, 1.
 *
 * **Order and the memory bound.** With `ordered` (the default) a result that settles before an
 * earlier one waits in a reorder buffer of at most `concurrency` batches; while that buffer is
 * full no new batch starts. So at most `2 × concurrency − 1` batches (each of at most `chunksize`
 * items) are between the source and the output, plus the input buffer (`maxBuffered`). With
 * `ordered: false` results are emitted as batches settle and at most `concurrency` are held.
 *
 * **Overflow.** Past `maxBuffered` waiting values, `overflow: 'error'` errors the stream with
 * `BufferOverflowError` (its message names the bound); `'drop-oldest'` / `'drop-newest'` drop a
 * value and call `onDrop(value, dropped)` with the running count of drops — that is where the
 * count is visible. RxJS sources push and cannot be paused: to stream an input larger than memory,
 * pull it through the pool instead (`from(pool.map(fn, hugeIterable))`), or feed the operator from a
 * source paced by its consumer (see the README).
 *
 * **Errors.** When an item fails, every earlier result is emitted first (waiting for them if
 * they are still running), including the items of the same batch before it, then the error; later
 * batches in flight are cancelled at once, no new batch starts and later source values are
 * ignored. With `ordered: false` the error is emitted as soon as its batch settles. A batch-wide
 * error (crash, timeout) counts as the error of the batch's first item. A source error is passed
 * on at once and cancels everything in flight. A pool that throws from `runBatch` errors the
 * stream at once.
 *
 * **End.** The output completes after the source completes and the last result is emitted.
 * Unsubscribing cancels every batch in flight (a queued batch never runs; a running one costs its
 * worker, which the pool replaces) and leaves the pool open.
 *
 * ## Example
 * ```ts
 * import { range } from 'rxjs';
 * import { ThreadPool, mapOnPool } from 'rxjs-pools';
 *
 * const pool = new ThreadPool({ maxWorkers: 4 });
 * range(1, 5)
 *   .pipe(mapOnPool(pool, (n: number) => n * n, { concurrency: 2 }))
 *   .subscribe({ next: (y) => console.log(y), complete: () => pool.shutdown() });
 * // 1
 * // 4
 * // 9
 * // 16
 * // 25
 * ```
 *
 * @see mapOnThreads, mapOnProcesses — a pool of their own per subscription.
 * @see VirtualPool (rxjs-pools/testing) — the same operator in virtual time, for marble tests.
 * @param pool Runs the batches: a `ThreadPool`, `ProcessPool`, `VirtualPool`, or any `Pool`.
 * @param fn The task, receiving one value: a self-contained function (sent by its source) or a
 * `task(module, name)` reference. Passed to the pool as is.
 * @param options `concurrency`, `chunksize`, `ordered`, `maxBuffered`, `overflow`, `onDrop`;
 * validated now, so a bad option throws here rather than on subscribe.
 * @returns An operator emitting `fn(value)` for each source value.
 */
export function mapOnPool<T, R>(
  pool: Pool,
  fn: Task<(value: T) => R | PromiseLike<R>>,
  options: MapOnPoolOptions<T> = {},
): OperatorFunction<T, R> {
  expectPool(pool);
  expectTask('mapOnPool', fn);
  const { concurrency, chunksize, ordered, maxBuffered, overflow, onDrop } = resolveMapOnPoolOptions('mapOnPool', options);

  return (source) =>
    new Observable<R>((subscriber) => {
      let sourceDone = false;
      let pumping = false;
      let again = false;

      /** Errors the output now: everything in flight is cancelled first, in one pass. */
      const fail = (error: unknown) => {
        if (subscriber.closed) return;
        window.close(new AbortError('mapOnPool: the stream errored', { cause: error }));
        subscriber.error(error);
      };

      const fill = () => {
        try {
          window.fill();
        } catch (error) {
          fail(error); // a pool that throws from runBatch errors the stream at once
        }
      };

      /**
       * Emits what can be emitted, starts what can start, completes when all is done. Re-entrant
       * calls (a downstream `next` that feeds the source synchronously) only ask for another round,
       * so results are never emitted out of order.
       */
      const pump = () => {
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            for (let outcome = window.take(); outcome !== undefined; outcome = window.take()) {
              const { values, ok } = outcome;
              for (let i = 0; i < ok; i++) {
                subscriber.next(values[i]!);
                if (subscriber.closed) return;
              }
              if (ok < outcome.items.length) return fail(failureOf(outcome));
            }
            fill();
            if (subscriber.closed) return;
            if (sourceDone && window.idle) return subscriber.complete();
          } while (again);
        } finally {
          pumping = false;
        }
      };

      const window = new BatchWindow<T, R>(pool, fn, { ordered, concurrency, chunksize, failFast: true, label: 'mapOnPool' }, () => {
        try {
          pump();
        } catch (bug) {
          fail(bug); // never let an exception escape into the pool
        }
      });

      const admit = admitter<T>({ maxBuffered, overflow, onDrop, fail, waitingFor: () => `one of ${window.running} batches in flight` });

      const next = (value: T) => {
        if (window.stopped || subscriber.closed) return; // the outcome is decided: an error
        const { input } = window;
        if (window.canStart()) {
          fill(); // only non-empty when called re-entrantly, before the pump got to it
          if (input.length === 0 && window.canStart()) {
            try {
              return window.start([value]);
            } catch (error) {
              return fail(error);
            }
          }
        }
        admit(input, value);
      };

      // Public RxJS cannot link our observer to the upstream subscriber while a synchronous source
      // is still emitting inside subscribe(), so an output that errors there (overflow, a pool that
      // throws) could not stop, say, `range(0, 1e9)`. takeWhile ends the source on its next value.
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
        window.close(new AbortError('mapOnPool: unsubscribed'));
      };
    });
}
