import { BrokenPoolError, PoolShutdownError } from '../errors.ts';
import { checkPullArguments, expectSignal, PullWindow } from '../pools/map.ts';
import type { Pool, Task } from '../pools/Pool.ts';
import { describe } from '../pools/task.ts';
import { errorAt } from '../pools/window.ts';

/** The outcome of one item of {@link mapSettled}, like a `Promise.allSettled` entry. */
export type Settled<T, R> =
  | { readonly ok: true; readonly index: number; readonly item: T; readonly value: R }
  | { readonly ok: false; readonly index: number; readonly item: T; readonly error: Error };

/** Options of {@link mapSettled}. */
export interface MapSettledOptions {
  /**
   * Items read from the source and not yet yielded, at most: the bound on memory. A slow consumer
   * stops the reads once this many items are ahead of it. At least `chunksize`.
   * @default pool.maxWorkers × max(256, 4 × chunksize), as `pool.map`
   */
  readonly buffersize?: number;
  /**
   * Items sent to a worker in one message, at most; `'auto'` sizes each batch from the task's
   * measured time. A chunk never waits to fill: whatever has been read when the source pauses (a
   * live feed between records) goes out at once.
   * @default 1
   */
  readonly chunksize?: number | 'auto';
  /**
   * Yield in input order (`true`), or as chunks finish (`false`). Ordered, a slow item holds back
   * the ones after it, and reading stops once `buffersize` items wait behind it.
   * @default true
   */
  readonly ordered?: boolean;
  /** Stops the run: pending tasks are cancelled and the iteration throws an `AbortError`. */
  readonly signal?: AbortSignal;
}

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
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  const { chunksize, buffersize } = checkPullArguments(source, options);
  const ordered = options.ordered ?? true;
  if (typeof ordered !== 'boolean') throw new TypeError(`Expected \`ordered\` to be a boolean, got ${describe(ordered)}`);
  const signal = expectSignal(options.signal);
  const pull = new PullWindow<T, unknown>(pool, fn as Task, source, {
    ordered,
    chunksize,
    buffersize,
    failFast: false,
    signal,
    timeout: undefined,
    totalTimeout: undefined,
    label: 'mapSettled()',
  });
  return run(pull) as AsyncGenerator<Settled<T, Awaited<R>>, void, undefined>;
}

async function* run<T>(pull: PullWindow<T, unknown>): AsyncGenerator<Settled<T, unknown>, void, undefined> {
  try {
    for (let outcome = await pull.next(); outcome !== undefined; outcome = await pull.next()) {
      const { error, items, values, start } = outcome;
      if (error instanceof BrokenPoolError || error instanceof PoolShutdownError) throw error;
      for (let i = 0; i < items.length; i++) {
        const itemError = errorAt(outcome, i);
        pull.consumed(1);
        yield itemError
          ? { ok: false, index: start + i, item: items[i]!, error: itemError }
          : { ok: true, index: start + i, item: items[i]!, value: values[i] };
      }
    }
  } finally {
    await pull.close();
  }
}
