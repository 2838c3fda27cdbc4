import { Observable, takeWhile, type OperatorFunction } from 'rxjs';
import { AbortError, BufferOverflowError } from '../errors.ts';
import type { BatchResult, Cancel, Pool, Task } from '../pools/Pool.ts';
import { expectPool, expectTask, resolveMapOnPoolOptions, type MapOnPoolOptions } from './options.ts';
import { Queue } from './Queue.ts';

/** A settled batch, reduced to what the output needs. */
interface Outcome<R> {
  readonly values: readonly R[];
  /** How many of `values` to emit: all of them, or those before the first failed item. */
  readonly count: number;
  /** The batch-wide error, or the first failed item's error. */
  readonly error: Error | undefined;
}

/** A batch submitted and not settled; `cancel` is set once `runBatch` has returned. */
interface Running {
  cancel: Cancel | undefined;
}

function outcomeOf<R>(size: number, error: Error | undefined | null, result: BatchResult<R> | undefined): Outcome<R> {
  if (error != null || result === undefined) {
    // A batch-wide failure (crash, timeout, shutdown) counts as the error of the batch's first item.
    return { values: [], count: 0, error: error ?? new TypeError('The pool settled a batch with neither an error nor a result') };
  }
  const errors = result.errors;
  if (errors !== undefined) {
    for (let i = 0; i < size; i++) {
      const itemError = errors[i];
      if (itemError != null) return { values: result.values, count: i, error: itemError };
    }
  }
  return { values: result.values, count: size, error: undefined };
}

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
 * **Flow.** Each value goes to a free slot at once, alone (a slot is one batch in flight). Values
 * that arrive while every slot is busy wait in an input buffer; when a slot frees, the next batch
 * takes up to `chunksize` of them — it never waits to fill a batch.
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
  const { concurrency, chunksize, ordered, maxBuffered, overflow, onDrop } = resolveMapOnPoolOptions('mapOnPool', options, pool.maxWorkers);

  return (source) =>
    new Observable<R>((subscriber) => {
      /** Values waiting for a free slot. */
      const waiting = new Queue<T>();
      /** Batches submitted and not settled, by batch number. */
      const running = new Map<number, Running>();
      /**
       * Settled batches not yet emitted. Ordered: the reorder buffer, by batch number. Unordered:
       * only those settling while an emission is under way (a Map iterates in insertion order).
       */
      const settled = new Map<number, Outcome<R>>();
      let nextBatch = 0;
      /** Ordered: the batch whose results are emitted next. */
      let emitBatch = 0;
      /** Ordered: the earliest batch known to have failed; nothing after it starts or is emitted. */
      let failedAt = Infinity;
      let sourceDone = false;
      let dropped = 0;
      let pumping = false;
      let again = false;

      const canStart = () =>
        running.size < concurrency && (!ordered || settled.size < concurrency) && failedAt === Infinity && !subscriber.closed;

      const cancelRunning = (from: number, reason: AbortError) => {
        for (const [batch, entry] of running) {
          if (batch < from) continue;
          running.delete(batch);
          entry.cancel?.(reason);
        }
      };

      /** Errors the output now: everything in flight is cancelled first. */
      const fail = (error: unknown) => {
        if (subscriber.closed) return;
        cancelRunning(0, new AbortError('mapOnPool: the stream errored', { cause: error }));
        waiting.clear();
        settled.clear();
        subscriber.error(error);
      };

      const settle = (batch: number, size: number, error: Error | undefined, result: BatchResult<R> | undefined) => {
        if (!running.has(batch) || subscriber.closed) return; // cancelled: pools must not call back, but be safe
        running.delete(batch);
        const outcome = outcomeOf(size, error, result);
        if (ordered && outcome.error !== undefined && batch < failedAt) {
          failedAt = batch;
          cancelRunning(batch + 1, new AbortError('mapOnPool: an earlier item failed', { cause: outcome.error }));
          for (const later of settled.keys()) if (later > batch) settled.delete(later);
          waiting.clear();
        }
        settled.set(batch, outcome);
        pump();
      };

      const start = (items: T[]) => {
        const batch = nextBatch++;
        const entry: Running = { cancel: undefined };
        running.set(batch, entry);
        let cancel: Cancel;
        try {
          cancel = pool.runBatch<T, R>(fn, items, (error, result) => {
            try {
              settle(batch, items.length, error, result);
            } catch (bug) {
              fail(bug); // never let an exception escape into the pool
            }
          });
        } catch (error) {
          running.delete(batch);
          fail(error);
          return;
        }
        entry.cancel = cancel;
      };

      const startWaiting = () => {
        while (waiting.length > 0 && canStart()) start(waiting.take(chunksize));
      };

      const nextOutcome = (): Outcome<R> | undefined => {
        if (ordered) {
          const outcome = settled.get(emitBatch);
          if (outcome !== undefined) {
            settled.delete(emitBatch);
            emitBatch++;
          }
          return outcome;
        }
        for (const [batch, outcome] of settled) {
          settled.delete(batch);
          return outcome;
        }
        return undefined;
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
            for (let outcome = nextOutcome(); outcome !== undefined; outcome = nextOutcome()) {
              for (let i = 0; i < outcome.count; i++) {
                subscriber.next(outcome.values[i]);
                if (subscriber.closed) return;
              }
              if (outcome.error !== undefined) return fail(outcome.error);
            }
            startWaiting();
            if (subscriber.closed) return;
            if (sourceDone && running.size === 0 && settled.size === 0 && waiting.length === 0) return subscriber.complete();
          } while (again);
        } finally {
          pumping = false;
        }
      };

      const drop = (value: T) => {
        dropped++;
        if (onDrop === undefined) return;
        try {
          onDrop(value, dropped);
        } catch (error) {
          fail(error);
        }
      };

      const next = (value: T) => {
        if (failedAt !== Infinity || subscriber.closed) return; // the outcome is decided: an error
        if (canStart()) {
          startWaiting(); // only non-empty when called re-entrantly, before the pump got to it
          if (waiting.length === 0 && canStart()) return start([value]);
        }
        if (waiting.length < maxBuffered) return waiting.push(value);
        switch (overflow) {
          case 'error':
            return fail(
              new BufferOverflowError(
                `maxBuffered (${maxBuffered}) exceeded: a value arrived while ${waiting.length} values were already waiting for ` +
                  `one of ${concurrency} slots. Raise maxBuffered, slow the source down, or choose overflow 'drop-oldest' or 'drop-newest'`,
                maxBuffered,
              ),
            );
          case 'drop-newest':
            return drop(value);
          case 'drop-oldest':
            if (waiting.length === 0) return drop(value); // maxBuffered 0: the new value is the oldest waiting
            waiting.push(value);
            return drop(waiting.shift());
        }
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
        cancelRunning(0, new AbortError('mapOnPool: unsubscribed'));
        waiting.clear();
        settled.clear();
      };
    });
}
