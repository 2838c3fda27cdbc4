import { Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { PoolStats } from '../pools/Pool.ts';
import { describe } from '../pools/task.ts';

/** What {@link poolStats} reads: a pool's size and its live `stats` (`ThreadPool`, `ProcessPool`). */
export interface StatsSource {
  readonly maxWorkers: number;
  readonly stats: PoolStats;
}

/** One sample of {@link poolStats}: the pool's snapshot plus figures for the window since the last sample. */
export interface PoolStatsSample extends PoolStats {
  /** Milliseconds this sample covers: since the previous sample (since the pool started, for the first). */
  readonly window: number;
  /**
   * `Δ busyTime / (maxWorkers × window)`, 0–1: the share of the pool's capacity used during the
   * window. A task's time is counted when it finishes, so with tasks longer than the interval the
   * figure is lumpy (clamped to 1); `busy / maxWorkers` is the instantaneous view.
   */
  readonly windowUtilization: number;
  /** Tasks that settled (completed or failed) during the window. */
  readonly settled: number;
  /** `settled` per second of the window. */
  readonly throughput: number;
}

/** Options of {@link poolStats}. */
export interface PoolStatsOptions {
  /**
   * Milliseconds between samples.
   * @default 1000
   */
  readonly interval?: number;
  /**
   * Schedules the samples (a `TestScheduler` in tests). By default a Node timer that is `unref`'d:
   * a forgotten subscription never keeps the process alive.
   */
  readonly scheduler?: SchedulerLike;
}

/**
 * A pool's live figures as an Observable: a sample on subscribe, then one every `interval` ms,
 * each with utilization and throughput over the window since the previous sample.
 *
 * It completes after the first sample that finds the pool `'closed'` (shut down, every worker
 * gone) or `'broken'`; end it sooner by unsubscribing. Unsubscribing clears its timer; the timer
 * never keeps the process alive in the meantime.
 *
 * ## Example
 * ```ts
 * const progress = poolStats(pool, { interval: 500 }).subscribe((s) =>
 *   process.stderr.write(`\r${s.completed} done · ${s.throughput.toFixed(0)}/s · ${s.busy}/${s.workers} busy`),
 * );
 * await work;
 * progress.unsubscribe();
 * ```
 * Prints, every half second, e.g. `1200 done · 2390/s · 4/4 busy`.
 * @param pool A `ThreadPool` or `ProcessPool` (anything with `maxWorkers` and `stats`).
 * @returns An Observable of {@link PoolStatsSample}; it errors if reading `stats` throws.
 */
export function poolStats(pool: StatsSource, options: PoolStatsOptions = {}): Observable<PoolStatsSample> {
  if (typeof pool !== 'object' || pool === null || !('stats' in pool) || typeof pool.maxWorkers !== 'number') {
    throw new TypeError(`Expected \`pool\` to be a pool with \`stats\` (ThreadPool or ProcessPool), got ${describe(pool)}`);
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  const { interval = 1000, scheduler } = options;
  // setInterval treats Infinity (and anything above 2³¹−1 ms) as 1 ms.
  if (typeof interval !== 'number' || !(interval > 0) || interval > 0x7fffffff) {
    throw new TypeError(`Expected \`interval\` to be a number of milliseconds above 0 (at most 2147483647), got ${describe(interval)}`);
  }
  if (scheduler !== undefined && (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.schedule !== 'function')) {
    throw new TypeError(`Expected \`scheduler\` to be an RxJS scheduler, got ${describe(scheduler)}`);
  }

  return new Observable<PoolStatsSample>((subscriber) => {
    let previous: PoolStats | undefined;
    const emit = () => {
      let now: PoolStats;
      try {
        now = pool.stats;
      } catch (error) {
        subscriber.error(error);
        return;
      }
      subscriber.next(sample(pool.maxWorkers, previous, now));
      previous = now;
      if (now.state === 'closed' || now.state === 'broken') subscriber.complete();
    };
    emit();
    if (subscriber.closed) return;
    if (scheduler) {
      return scheduler.schedule(function (this: SchedulerAction<undefined>) {
        emit();
        if (!subscriber.closed) this.schedule(undefined, interval);
      }, interval);
    }
    const timer = setInterval(emit, interval);
    timer.unref();
    return () => clearInterval(timer);
  });
}

/** The windowed figures between two snapshots (from the pool's start when there is no previous one). */
export function sample(maxWorkers: number, previous: PoolStats | undefined, now: PoolStats): PoolStatsSample {
  const window = Math.max(0, now.uptime - (previous?.uptime ?? 0));
  const busyTime = Math.max(0, now.busyTime - (previous?.busyTime ?? 0));
  const settled = Math.max(0, now.completed + now.failed - (previous ? previous.completed + previous.failed : 0));
  return {
    ...now,
    window,
    windowUtilization: window > 0 ? Math.min(1, busyTime / (maxWorkers * window)) : 0,
    settled,
    throughput: window > 0 ? (settled * 1000) / window : 0,
  };
}
