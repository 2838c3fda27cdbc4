/**
 * mapOnProcesses on real child processes: the shared runtime suite (a SharedArrayBuffer cannot be
 * shared with another process, so concurrency is checked on the tasks' wall-clock spans there).
 */
import { vi } from 'vitest';
import { mapOnProcesses } from '../../src/operators/mapOnProcesses.ts';
import { operatorSuite, type RecordedPool } from './runtime-suite.ts';

const created = vi.hoisted(() => [] as RecordedPool[]);

// Every ProcessPool mapOnProcesses creates is recorded, with its shutdown calls, so the tests can see
// one pool per subscription, its workers, and that it was shut down.
vi.mock('../../src/pools/ProcessPool.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/pools/ProcessPool.ts')>();
  const { recording } = await import('./recording.ts');
  return { ...original, ProcessPool: recording(original.ProcessPool, created) };
});

operatorSuite('mapOnProcesses', mapOnProcesses as never, created);
