import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Subscription } from 'rxjs';
import { poolStats, type PoolStatsSample, type StatsSource } from '../stats/poolStats.ts';

/** Milliseconds between redraws of the progress line. */
const INTERVAL = 250;
const CLEAR = '\r\x1b[2K';

/**
 * The progress line on stderr (records done, records/s, workers busy), redrawn from
 * `poolStats`. Messages printed while it is shown clear it first and redraw it after, so the two
 * never mix on one line. Disabled, it prints messages only.
 */
export class Progress {
  readonly #stream: Writable;
  readonly #enabled: boolean;
  readonly #started = performance.now();
  #subscription: Subscription | undefined;
  #line = '';
  #done = 0;
  #failed = 0;
  #lastDone = 0;
  #lastAt = this.#started;
  #rate = 0;

  constructor(stream: Writable, enabled: boolean) {
    this.#stream = stream;
    this.#enabled = enabled;
  }

  get done(): number {
    return this.#done;
  }
  get failed(): number {
    return this.#failed;
  }

  start(pool: StatsSource): void {
    if (!this.#enabled) return;
    this.#subscription = poolStats(pool, { interval: INTERVAL }).subscribe((sample) => this.#draw(sample));
  }

  /** Counts a record as done (written, dropped or failed). */
  record(failed: boolean): void {
    this.#done++;
    if (failed) this.#failed++;
  }

  /** Prints a message on its own line. */
  message(text: string): void {
    if (this.#line) this.#stream.write(`${CLEAR}${text}\n${this.#line}`);
    else this.#stream.write(`${text}\n`);
  }

  /** Removes the progress line and, when enabled, prints the summary. */
  stop(): void {
    this.#subscription?.unsubscribe();
    if (!this.#enabled) return;
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const failed = this.#failed ? `, ${this.#failed} failed` : '';
    this.#stream.write(`${CLEAR}${format(this.#done)} records in ${seconds.toFixed(1)} s (${format(rate)}/s)${failed}\n`);
    this.#line = '';
  }

  #draw(sample: PoolStatsSample): void {
    const now = performance.now();
    if (now > this.#lastAt) {
      // Records/s over the last window, smoothed a little so the figure is readable.
      const rate = ((this.#done - this.#lastDone) * 1000) / (now - this.#lastAt);
      this.#rate = this.#lastDone === 0 && this.#rate === 0 ? rate : this.#rate * 0.5 + rate * 0.5;
    }
    this.#lastDone = this.#done;
    this.#lastAt = now;
    const failed = this.#failed ? ` · ${format(this.#failed)} failed` : '';
    this.#line = `${format(this.#done)} records · ${format(this.#rate)}/s · ${sample.busy}/${sample.workers} workers busy${failed}`;
    this.#stream.write(`${CLEAR}${this.#line}`);
  }
}

function format(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
