/** flatMapOnThreads on real worker threads: the shared own-pool suite (flat-own-pool-suite.ts). */
import { vi } from 'vitest';
import { flatMapOnThreads } from '../../src/operators/flatMapOnThreads.ts';
import { flatOwnPoolSuite } from './flat-own-pool-suite.ts';
import type { RecordedPool } from './runtime-suite.ts';

const created = vi.hoisted(() => [] as RecordedPool[]);

// Every ThreadPool the operator creates is recorded, with its shutdown calls.
vi.mock('../../src/pools/ThreadPool.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/pools/ThreadPool.ts')>();
  const { recording } = await import('./recording.ts');
  return { ...original, ThreadPool: recording(original.ThreadPool, created) };
});

flatOwnPoolSuite('flatMapOnThreads', flatMapOnThreads as never, created, 'resourceLimits');
