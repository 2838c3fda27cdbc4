import type { Job } from './Job.ts';

/**
 * One abort listener per AbortSignal, however many jobs share it: aborting it hands all of its
 * jobs to `onAbort` at once (one pass), and the listener is removed when its last job settles (no
 * `MaxListenersExceededWarning` for a signal shared by thousands of tasks, nothing left behind).
 */
export class AbortWatch {
  readonly #bySignal = new Map<AbortSignal, { readonly jobs: Set<Job>; readonly listener: () => void }>();
  readonly #onAbort: (jobs: Iterable<Job>, reason: unknown) => void;

  constructor(onAbort: (jobs: Iterable<Job>, reason: unknown) => void) {
    this.#onAbort = onAbort;
  }

  watch(signal: AbortSignal, job: Job): void {
    let entry = this.#bySignal.get(signal);
    if (!entry) {
      const jobs = new Set<Job>();
      const listener = () => {
        this.#bySignal.delete(signal);
        this.#onAbort(jobs, signal.reason);
      };
      entry = { jobs, listener };
      this.#bySignal.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    entry.jobs.add(job);
  }

  /** `job` settled: forget it, and the listener with its last job. */
  unwatch(signal: AbortSignal, job: Job): void {
    const entry = this.#bySignal.get(signal);
    if (!entry) return;
    entry.jobs.delete(job);
    if (entry.jobs.size === 0) {
      this.#bySignal.delete(signal);
      signal.removeEventListener('abort', entry.listener);
    }
  }
}
