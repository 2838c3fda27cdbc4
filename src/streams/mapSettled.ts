import { AbortError, BrokenPoolError, PoolShutdownError } from '../errors.ts';
import type { BatchResult, Cancel, Pool, Task } from '../pools/Pool.ts';
import { expectInteger } from '../pools/options.ts';
import { describe } from '../pools/task.ts';

/** The outcome of one item of {@link mapSettled}, like a `Promise.allSettled` entry. */
export type Settled<T, R> =
  | { readonly ok: true; readonly index: number; readonly item: T; readonly value: R }
  | { readonly ok: false; readonly index: number; readonly item: T; readonly error: Error };

/** Options of {@link mapSettled}. */
export interface MapSettledOptions {
  /**
   * Items read from the source and not yet yielded, at most: the bound on memory. A slow consumer
   * stops the reads once this many items are ahead of it. At least `chunksize`.
   * @default pool.maxWorkers × chunksize × 64
   */
  readonly buffersize?: number;
  /**
   * Items sent to a worker in one message, at most. A chunk never waits to fill: whatever has
   * been read when the source pauses (a live feed between records) goes out at once.
   * @default 1
   */
  readonly chunksize?: number;
  /**
   * Yield in input order (`true`), or as chunks finish (`false`). Ordered, a slow item holds back
   * the ones after it, and reading stops once `buffersize` items wait behind it.
   * @default true
   */
  readonly ordered?: boolean;
  /** Stops the run: pending tasks are cancelled and the iteration throws an `AbortError`. */
  readonly signal?: AbortSignal;
}

interface Chunk<T> {
  readonly start: number;
  readonly items: T[];
  settled: boolean;
  error: Error | undefined;
  result: BatchResult<unknown> | undefined;
  cancel: Cancel;
}

function noop(): void {}

/**
 * Runs `fn(item)` on `pool` for every item of `source` and yields each outcome, success or
 * failure, without stopping at the first error: the pull path for feeds where one bad record must
 * not end the run. (`pool.map` throws at the first failed item and cancels the rest.)
 *
 * Pull-based and bounded: at most `buffersize` items are read ahead of the consumer, so a slow
 * consumer slows the reads, and infinite or live sources work. Leaving the loop early cancels
 * whatever is pending and closes the source. Errors that mean no later item can run either
 * (`BrokenPoolError`, `PoolShutdownError`) and errors of the source itself end the iteration
 * with a throw, once the outcomes of the items read before them have been yielded.
 *
 * ## Example
 * ```ts
 * for await (const r of mapSettled(pool, parse, lines, { chunksize: 16 })) {
 *   if (r.ok) out.write(JSON.stringify(r.value) + '\n');
 *   else console.error(`record ${r.index}: ${r.error.message}`);
 * }
 * ```
 * @param pool Any {@link Pool}: a `ThreadPool`, a `ProcessPool`, or a test double.
 * @param fn An inline function or a `task(module, name)` reference, receiving one item.
 * @param source Any iterable or async iterable (a `Readable` in object mode, a generator, …).
 * @returns An async generator of {@link Settled} outcomes; `index` is the item's position in `source`.
 */
export function mapSettled<T, R>(
  pool: Pool,
  fn: Task<(value: T) => R | PromiseLike<R>>,
  source: Iterable<T> | AsyncIterable<T>,
  options: MapSettledOptions = {},
): AsyncGenerator<Settled<T, Awaited<R>>, void, undefined> {
  if (typeof pool !== 'object' || pool === null || typeof pool.runBatch !== 'function') {
    throw new TypeError(`Expected \`pool\` to be a pool (ThreadPool, ProcessPool or another Pool), got ${describe(pool)}`);
  }
  if (
    source == null ||
    (typeof (source as Iterable<T>)[Symbol.iterator] !== 'function' && typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new TypeError(`Expected \`source\` to be an iterable or async iterable, got ${describe(source)}`);
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  const chunksize = options.chunksize === undefined ? 1 : expectInteger('chunksize', options.chunksize, 1);
  const buffersize =
    options.buffersize === undefined ? pool.maxWorkers * chunksize * 64 : expectInteger('buffersize', options.buffersize, chunksize);
  const ordered = options.ordered ?? true;
  if (typeof ordered !== 'boolean') throw new TypeError(`Expected \`ordered\` to be a boolean, got ${describe(ordered)}`);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
  return run(pool, fn as Task, source, chunksize, buffersize, ordered, signal) as AsyncGenerator<Settled<T, Awaited<R>>, void, undefined>;
}

async function* run<T>(
  pool: Pool,
  fn: Task,
  source: Iterable<T> | AsyncIterable<T>,
  chunksize: number,
  buffersize: number,
  ordered: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<Settled<T, unknown>, void, undefined> {
  const iterator: AsyncIterator<T> | Iterator<T> =
    Symbol.asyncIterator in source ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
  /** Sent and not yet yielded: in send order (ordered) or in the order they settled (unordered). */
  const chunks: Chunk<T>[] = [];
  let first = 0;
  /** Items read and not yet yielded (including the chunk being filled). */
  let ahead = 0;
  let index = 0;
  let filling: T[] = [];
  let flushScheduled = false;
  let sourceDone = false;
  let sourceError: { error: unknown } | undefined;
  let inNext = false;
  let stopped = false;
  /** Sent and not settled, to cancel on the way out. */
  const pending = new Set<Chunk<T>>();
  /** Wakes the consumer (a chunk settled, the source ended) … */
  let wakeConsumer = null as (() => void) | null;
  /** … and the reader (the consumer made room). */
  let wakeReader = null as (() => void) | null;
  const wake = () => {
    const w = wakeConsumer;
    wakeConsumer = null;
    w?.();
  };

  const send = () => {
    if (filling.length === 0) return;
    const chunk: Chunk<T> = { start: index - filling.length, items: filling, settled: false, error: undefined, result: undefined, cancel: noop };
    filling = [];
    if (ordered) chunks.push(chunk);
    pending.add(chunk);
    chunk.cancel = pool.runBatch(fn, chunk.items, (error, result) => {
      pending.delete(chunk);
      chunk.settled = true;
      chunk.error = error;
      chunk.result = result;
      if (!ordered) chunks.push(chunk);
      wake();
    });
  };
  // A partial chunk goes out once the source has nothing more to give in this turn of the event
  // loop: a fast source fills whole chunks, a live one gets no added latency.
  const flushLater = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      if (!stopped) send();
    });
  };

  const read = async () => {
    try {
      while (!stopped) {
        while (!stopped && ahead >= buffersize) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) break;
        inNext = true;
        const step = await iterator.next();
        inNext = false;
        if (stopped) break;
        if (step.done) {
          sourceDone = true;
          break;
        }
        filling.push(step.value);
        index++;
        ahead++;
        if (filling.length >= chunksize) send();
        else flushLater();
      }
    } catch (error) {
      inNext = false;
      sourceError = { error };
    } finally {
      if (!stopped) {
        send();
        sourceDone = true;
        wake();
      }
    }
  };

  const onAbort = () => wake();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw new AbortError('mapSettled() was aborted', { cause: signal.reason });
    void read();
    for (;;) {
      let chunk = chunks[first];
      while (!(chunk && (chunk.settled || !ordered)) && !(sourceDone && first === chunks.length && pending.size === 0) && !signal?.aborted) {
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
        chunk = chunks[first];
      }
      if (signal?.aborted) throw new AbortError('mapSettled() was aborted', { cause: signal.reason });
      if (!chunk) {
        if (sourceError) throw sourceError.error;
        return;
      }
      chunks[first++] = undefined as unknown as Chunk<T>;
      if (first > 1024 && first * 2 > chunks.length) {
        chunks.splice(0, first);
        first = 0;
      }
      const { error, result, items, start } = chunk;
      if (error instanceof BrokenPoolError || error instanceof PoolShutdownError) throw error;
      for (let i = 0; i < items.length; i++) {
        const itemError = error ?? result!.errors?.[i];
        ahead--;
        if (ahead < buffersize && wakeReader) {
          const w = wakeReader;
          wakeReader = null;
          w();
        }
        yield itemError
          ? { ok: false, index: start + i, item: items[i]!, error: itemError }
          : { ok: true, index: start + i, item: items[i]!, value: result!.values[i] };
      }
    }
  } finally {
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
    for (const chunk of pending) chunk.cancel();
    pending.clear();
    wakeReader?.();
    // Closing the source while a `next()` is pending would wait for that next item, which a live
    // feed may never send: close it without waiting then.
    if (inNext) void Promise.resolve(iterator.return?.()).catch(noop);
    else if (sourceError === undefined) await iterator.return?.();
  }
}
