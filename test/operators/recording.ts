/**
 * A pool class that records every instance and its shutdown calls, for the vi.mock of
 * ThreadPool / ProcessPool in the mapOnThreads / mapOnProcesses specs (the factory imports this
 * module: vi.mock factories are hoisted above the file's imports).
 */
import type { WorkerPool } from '../../src/pools/WorkerPool.ts';
import type { RecordedPool } from './runtime-suite.ts';

export function recording<C extends abstract new (...args: any[]) => WorkerPool>(Base: C, created: RecordedPool[]): C {
  abstract class Recorded extends Base {
    readonly shutdowns: unknown[] = [];
    constructor(...args: any[]) {
      super(...args);
      created.push(this as unknown as RecordedPool);
    }
    override shutdown(options?: { wait?: boolean; cancelPending?: boolean }): Promise<void> {
      this.shutdowns.push(options);
      return super.shutdown(options);
    }
  }
  return Recorded;
}
