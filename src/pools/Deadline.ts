import { performance } from 'node:perf_hooks';

/** Node fires any setTimeout above 2^31−1 ms after 1 ms, so longer limits are reached in steps. */
const MAX_TIMER = 0x7fffffff;

/** A one-shot timer that may be longer than 24.8 days; never keeps the process alive. */
export class Deadline {
  #timer: NodeJS.Timeout;
  readonly #due: number;
  constructor(ms: number, onExpire: () => void) {
    this.#due = performance.now() + ms;
    const arm = (left: number): NodeJS.Timeout => {
      const timer = setTimeout(() => {
        const rest = this.#due - performance.now();
        if (rest > 1) this.#timer = arm(rest);
        else onExpire();
      }, Math.min(left, MAX_TIMER));
      timer.unref();
      return timer;
    };
    this.#timer = arm(ms);
  }
  clear(): void {
    clearTimeout(this.#timer);
  }
}
