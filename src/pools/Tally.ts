import { AbortError } from '../errors.ts';
import type { BatchResult } from './Pool.ts';

/** A pool's counts for `stats`: every task (batch items one each) is counted once, when its caller learns its outcome. */
export class Tally {
  completed = 0;
  failed = 0;
  /** Aborted, withdrawn, or rejected by `shutdown({ cancelPending })`: never a failure of the task. */
  cancelled = 0;
  /** Milliseconds workers spent running tasks, as measured in them. */
  busyTime = 0;

  count(size: number, batch: boolean, error: Error | undefined, value: unknown): void {
    if (error instanceof AbortError) {
      this.cancelled += size;
    } else if (error) {
      this.failed += size;
    } else if (batch) {
      let failed = 0;
      const errors = (value as BatchResult<unknown>).errors;
      if (errors) for (const e of errors) if (e) failed++;
      this.failed += failed;
      this.completed += size - failed;
    } else {
      this.completed++;
    }
  }
}
