import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { AbortError } from '../errors.ts';
import { expectInteger } from '../pools/options.ts';
import { describe } from '../pools/task.ts';

/** Options of {@link pipeThroughOperator}. */
export interface PipeThroughOperatorOptions {
  /**
   * Values handed to the operator and not yet written to the sink, at most. Reading stops at this
   * bound, and while the sink asks to wait (`write()` returned false, until `'drain'`). Set it to
   * at least the operator's `concurrency × chunksize`, or workers idle.
   * @default 64
   */
  readonly highWaterMark?: number;
  /** End the sink when the operator completes (`false` for `process.stdout`). @default true */
  readonly end?: boolean;
  /** Stops the run: the operator is unsubscribed (aborting its tasks), the promise rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
}

/**
 * Feeds a `Readable` (or any iterable or async iterable) through an RxJS operator such as
 * `mapOnThreads`, `mapOnProcesses` or `mapOnPool` into a `Writable`, with backpressure on both
 * ends, and resolves once the sink has finished.
 *
 * An Observable cannot be paused, so the gate sits in front of it: a value enters the operator
 * only while fewer than `highWaterMark` values are between source and sink, and the sink is not
 * asking to wait. A slow sink therefore stops the reads, and the operator's input buffer never
 * holds more than `highWaterMark` values (so its `maxBuffered` is never reached when it is at
 * least that).
 *
 * The operator must emit one value per input value, as the `mapOn*` operators do (the count of
 * values in flight goes down as results come out): a filtering operator would leave the gate
 * waiting for values that never come. Filter after, in the sink, or with `filter` before.
 *
 * Like `stream.pipeline`, an error anywhere (source, operator, sink) destroys the source and the
 * sink and rejects; the operator is unsubscribed, which aborts its tasks.
 *
 * ## Example
 * ```ts
 * await pipeThroughOperator(
 *   splitLines()(createReadStream('in.ndjson')),
 *   (line$) => line$.pipe(map((line) => JSON.parse(line)), mapOnThreads(enrich, { maxWorkers: 4 }), map((r) => JSON.stringify(r) + '\n')),
 *   createWriteStream('out.ndjson'),
 *   { highWaterMark: 64 },
 * );
 * ```
 * @param source Values to feed: a `Readable` (object mode or not), a generator, an array, …
 * @param operator Turns the Observable of source values into an Observable of chunks for the sink.
 * @param sink Where results go; strings or Buffers, or anything in object mode.
 * @returns A promise that resolves when the sink has finished (or, with `end: false`, when the last
 * value has been written), and rejects with the first error.
 */
export function pipeThroughOperator<T, R>(
  source: Iterable<T> | AsyncIterable<T>,
  operator: OperatorFunction<T, R>,
  sink: Writable,
  options: PipeThroughOperatorOptions = {},
): Promise<void> {
  if (
    source == null ||
    (typeof (source as Iterable<T>)[Symbol.iterator] !== 'function' && typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new TypeError(`Expected \`source\` to be an iterable or async iterable, got ${describe(source)}`);
  }
  if (typeof operator !== 'function') throw new TypeError(`Expected \`operator\` to be a function, got ${describe(operator)}`);
  if (sink == null || typeof (sink as Writable).write !== 'function' || typeof (sink as Writable).on !== 'function') {
    throw new TypeError(`Expected \`sink\` to be a Writable stream, got ${describe(sink)}`);
  }
  const highWaterMark = options.highWaterMark === undefined ? 64 : expectInteger('highWaterMark', options.highWaterMark, 1);
  const end = options.end ?? true;
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }

  return new Promise<void>((resolve, reject) => {
    const iterator: AsyncIterator<T> | Iterator<T> =
      Symbol.asyncIterator in source ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
    let inFlight = 0;
    let settled = false;
    let wake = null as (() => void) | null;
    let subscription: Subscription | undefined;
    const release = () => {
      const w = wake;
      wake = null;
      w?.();
    };

    const cleanup = () => {
      settled = true;
      sink.off('drain', release);
      sink.off('error', fail);
      sink.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      subscription?.unsubscribe();
      release();
    };
    function fail(error: unknown): void {
      if (settled) return;
      cleanup();
      void Promise.resolve(iterator.return?.()).catch(() => {});
      // Destroyed without the error: the promise carries it, and an 'error' event nobody listens
      // to would crash the process.
      (source as { destroy?: () => void }).destroy?.();
      if (!sink.destroyed) sink.destroy();
      reject(error);
    }
    function onClose(): void {
      if (settled || sink.writableFinished) return;
      fail(Object.assign(new Error('The sink closed before the pipeline finished'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    }
    function onAbort(): void {
      fail(new AbortError('pipeThroughOperator() was aborted', { cause: signal!.reason }));
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    sink.on('drain', release);
    sink.on('error', fail);
    sink.on('close', onClose);

    // The source as an Observable that reads only through the gate. Its errors travel through the
    // operator (which aborts its tasks) like any source error.
    const input = new Observable<T>((subscriber) => {
      void (async () => {
        try {
          for (;;) {
            while (!subscriber.closed && (inFlight >= highWaterMark || sink.writableNeedDrain)) {
              await new Promise<void>((r) => (wake = r));
            }
            if (subscriber.closed) return;
            const step = await iterator.next();
            if (subscriber.closed) return;
            if (step.done) return subscriber.complete();
            inFlight++;
            subscriber.next(step.value);
          }
        } catch (error) {
          subscriber.error(error);
        }
      })();
      return release;
    });

    let output: Observable<R>;
    try {
      output = operator(input);
    } catch (error) {
      return fail(error);
    }
    subscription = output.subscribe({
      next(value) {
        inFlight--;
        try {
          sink.write(value);
        } catch (error) {
          // e.g. an object written to a sink that is not in object mode
          return fail(error);
        }
        release();
      },
      error: fail,
      complete() {
        if (settled) return;
        if (!end) {
          cleanup();
          resolve();
          return;
        }
        sink.end();
        finished(sink, { readable: false }).then(() => {
          if (settled) return;
          cleanup();
          resolve();
        }, fail);
      },
    });
    if (settled) subscription.unsubscribe();
  });
}
