/** flatMapOnProcesses on real child processes: the shared own-pool suite (flat-own-pool-suite.ts). */
import { vi } from 'vitest';
import { flatMapOnProcesses } from '../../src/operators/flatMapOnProcesses.ts';
import { flatOwnPoolSuite } from './flat-own-pool-suite.ts';
import type { RecordedPool } from './runtime-suite.ts';

const created = vi.hoisted(() => [] as RecordedPool[]);

// Every ProcessPool the operator creates is recorded, with its shutdown calls.
vi.mock('../../src/pools/ProcessPool.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/pools/ProcessPool.ts')>();
  const { recording } = await import('./recording.ts');
  return { ...original, ProcessPool: recording(original.ProcessPool, created) };
});

flatOwnPoolSuite('flatMapOnProcesses', flatMapOnProcesses as never, created, 'execArgv');
