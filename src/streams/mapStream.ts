import type { MapOptions, Task } from '../pools/Pool.ts';
import { describe } from '../pools/task.ts';

/** What {@link mapStream} needs of a pool: its lazy, ordered `map` (`ThreadPool`, `ProcessPool`). */
export interface MappingPool {
  map<F extends (value: any) => unknown>(
    fn: Task<F>,
    iterable: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>,
    options?: MapOptions,
  ): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined>;
}

/**
 * `pool.map` as a step of `stream.pipeline`: the pull path from a `Readable` (or any async
 * iterable) through a pool into a `Writable`, with backpressure on both ends.
 *
 * `pipeline` writes each result and waits for `'drain'` when the sink is full before asking for
 * the next one; `pool.map` reads at most `buffersize` items ahead of what has been asked for; a
 * `Readable` is read only when iterated. So a slow sink slows the reads, and what is in memory is
 * bounded by the two streams' `highWaterMark`s plus `buffersize`, whatever the input's length.
 * Results come out in input order; the first failed item errors the pipeline (which destroys both
 * streams and cancels what is pending). To keep going past bad records, see {@link mapSettled}.
 *
 * ## Example
 * ```ts
 * await pipeline(
 *   createReadStream('in.ndjson'),
 *   splitLines(),
 *   parseNdjson(),
 *   mapStream(pool, enrich, { chunksize: 16, buffersize: 256 }),
 *   stringifyNdjson(),
 *   createWriteStream('out.ndjson'),
 * );
 * ```
 * @param pool A `ThreadPool` or `ProcessPool` (left open: shut it down yourself).
 * @param fn An inline function or a `task(module, name)` reference, receiving one item.
 * @param options `pool.map`'s options: `buffersize` (the read-ahead bound), `chunksize`, `timeout`,
 * `signal`.
 * @returns A transform, `(source) => AsyncGenerator<result>`, for `stream.pipeline` or `for await`.
 */
export function mapStream<F extends (value: any) => unknown>(
  pool: MappingPool,
  fn: Task<F>,
  options: MapOptions = {},
): (source: Iterable<Parameters<F>[0]> | AsyncIterable<Parameters<F>[0]>) => AsyncGenerator<Awaited<ReturnType<F>>, void, undefined> {
  if (typeof pool !== 'object' || pool === null || typeof pool.map !== 'function') {
    throw new TypeError(`Expected \`pool\` to be a ThreadPool or ProcessPool, got ${describe(pool)}`);
  }
  return (source) => pool.map(fn, source, options);
}
