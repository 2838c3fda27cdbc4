import type { Pool, Task } from '../pools/Pool.ts';
import { expectChunksize } from '../pools/map.ts';
import { expectInteger } from '../pools/options.ts';
import { describe, isTaskRef } from '../pools/task.ts';

/** What happens to a value that arrives when the input buffer already holds `maxBuffered` values. */
export type OverflowPolicy = 'error' | 'drop-oldest' | 'drop-newest';

/** Options of {@link mapOnPool} (and the operator half of `mapOnThreads` / `mapOnProcesses`' options). */
export interface MapOnPoolOptions<T = unknown> {
  /**
   * Batches submitted to the pool and not yet settled, at most. More than the pool's `maxWorkers`
   * only queues work in the pool; fewer leaves workers of a shared pool to other users.
   * @default pool.maxWorkers
   */
  readonly concurrency?: number;
  /**
   * Items per batch (one message to one worker), at most. When a slot frees, the next batch takes
   * whatever is buffered, up to `chunksize`: it never waits to fill a batch, so a live feed gets no
   * added latency while a fast source gets batched naturally. A batch-wide failure (crash,
   * timeout) fails the whole batch, as the error of its first item.
   * @default 1
   */
  readonly chunksize?: number;
  /**
   * Emit results in input order (`true`), or as batches settle (`false`). Ordered results that
   * settle early wait in a reorder buffer of at most `concurrency` batches; while it is full no new
   * batch starts, so at most `2 × concurrency − 1` batches are ever between source and output.
   * @default true
   */
  readonly ordered?: boolean;
  /**
   * Values waiting for a free slot, at most. Past it, `overflow` decides. The default never
   * overflows (RxJS sources push; see the README on the pull path for inputs larger than memory).
   * @default Infinity
   */
  readonly maxBuffered?: number;
  /**
   * Past `maxBuffered`: `'error'` errors the stream with `BufferOverflowError`; `'drop-oldest'`
   * drops the value that waited longest to make room; `'drop-newest'` drops the value that just
   * arrived. Dropped values are counted and reported to `onDrop`.
   * @default 'error'
   */
  readonly overflow?: OverflowPolicy;
  /**
   * Called for each value a drop policy drops, with the running count of drops of this
   * subscription (1, 2, 3, …). If it throws, the stream errors with what it threw.
   */
  readonly onDrop?: (value: T, dropped: number) => void;
}

/** {@link MapOnPoolOptions} with every default filled in. */
export interface ResolvedMapOnPoolOptions<T> {
  /** `'auto'`: what the pool says keeps its workers busy (its `batching` hint), else `maxWorkers`. */
  readonly concurrency: number | 'auto';
  readonly chunksize: number | 'auto';
  readonly ordered: boolean;
  readonly maxBuffered: number;
  readonly overflow: OverflowPolicy;
  readonly onDrop: ((value: T, dropped: number) => void) | undefined;
}

/** The option names of {@link MapOnPoolOptions}; `mapOnThreads`/`mapOnProcesses` split on them. */
export const MAP_ON_POOL_OPTIONS: readonly (keyof MapOnPoolOptions)[] = [
  'concurrency',
  'chunksize',
  'ordered',
  'maxBuffered',
  'overflow',
  'onDrop',
];

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['error', 'drop-oldest', 'drop-newest'];

/** Throws unless `options` is a plain options object (not null, not an array). */
export function expectOptionsObject(operator: string, options: unknown): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected the options of ${operator} to be an object, got ${describe(options)}`);
  }
}

/** Throws unless `fn` is something a pool can run; the operators never look further into it. */
export function expectTask(operator: string, fn: unknown): asserts fn is Task {
  if (typeof fn !== 'function' && !isTaskRef(fn)) {
    throw new TypeError(`Expected the task of ${operator} to be a function or a task(module, name) reference, got ${describe(fn)}`);
  }
}

/**
 * Checks the operator options eagerly (when the operator is created, not on subscribe) and fills
 * in the defaults. Unknown option names are refused: a typo must not silently change behaviour.
 *
 * @param operator Name used in messages (`mapOnPool`, `mapOnThreads`, …).
 * @param options The operator options only (the pool options already split off).
 */
export function resolveMapOnPoolOptions<T>(operator: string, options: MapOnPoolOptions<T>): ResolvedMapOnPoolOptions<T> {
  expectOptionsObject(operator, options);
  for (const key of Object.keys(options)) {
    if (!(MAP_ON_POOL_OPTIONS as readonly string[]).includes(key)) {
      const hint = operator === 'mapOnPool' ? ' (pool options such as maxWorkers belong to the pool you pass in)' : '';
      throw new TypeError(`Unknown ${operator} option \`${key}\`; known options: ${MAP_ON_POOL_OPTIONS.join(', ')}${hint}`);
    }
  }
  const concurrency = options.concurrency === undefined ? 'auto' : expectInteger('concurrency', options.concurrency, 1);
  const chunksize = options.chunksize === undefined ? 1 : expectChunksize(options.chunksize);
  const ordered = options.ordered ?? true;
  if (typeof ordered !== 'boolean') throw new TypeError(`Expected \`ordered\` to be a boolean, got ${describe(ordered)}`);
  const maxBuffered = options.maxBuffered === undefined ? Infinity : expectInteger('maxBuffered', options.maxBuffered, 0, true);
  const overflow = options.overflow ?? 'error';
  if (!OVERFLOW_POLICIES.includes(overflow)) {
    throw new TypeError(`Expected \`overflow\` to be 'error', 'drop-oldest' or 'drop-newest', got ${describe(overflow)}`);
  }
  const { onDrop } = options;
  if (onDrop !== undefined && typeof onDrop !== 'function') {
    throw new TypeError(`Expected \`onDrop\` to be a function, got ${describe(onDrop)}`);
  }
  if (onDrop !== undefined && overflow === 'error') {
    throw new TypeError("`onDrop` was given but `overflow` is 'error', which never drops: set `overflow` to 'drop-oldest' or 'drop-newest'");
  }
  return { concurrency, chunksize, ordered, maxBuffered, overflow, onDrop };
}

/** Throws unless `pool` looks like a {@link Pool}. */
export function expectPool(pool: unknown): asserts pool is Pool {
  if (
    typeof pool !== 'object' ||
    pool === null ||
    typeof (pool as Pool).runBatch !== 'function' ||
    !Number.isInteger((pool as Pool).maxWorkers) ||
    (pool as Pool).maxWorkers < 1
  ) {
    throw new TypeError(
      `Expected \`pool\` to be a pool (a ThreadPool, ProcessPool, VirtualPool or other Pool with runBatch and maxWorkers), got ${describe(pool)}`,
    );
  }
}

/**
 * Splits `mapOnThreads`/`mapOnProcesses` options into the pool's and the operator's; a name that
 * is neither is refused, naming both lists.
 */
export function splitOptions<O extends object>(
  operator: string,
  options: O,
  poolKeys: readonly string[],
): { poolOptions: Record<string, unknown>; operatorOptions: Record<string, unknown> } {
  expectOptionsObject(operator, options);
  const poolOptions: Record<string, unknown> = {};
  const operatorOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (poolKeys.includes(key)) poolOptions[key] = value;
    else if ((MAP_ON_POOL_OPTIONS as readonly string[]).includes(key)) operatorOptions[key] = value;
    else {
      throw new TypeError(
        `Unknown ${operator} option \`${key}\`; known options: ${MAP_ON_POOL_OPTIONS.join(', ')} (operator), ${poolKeys.join(', ')} (pool)`,
      );
    }
  }
  return { poolOptions, operatorOptions };
}
