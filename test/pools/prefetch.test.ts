/**
 * A module task's first dispatch makes every idle worker import the module at once, so the
 * imports overlap instead of each worker importing only when a task of that module reaches it.
 * Observed through a fixture that records each import in a file: after one task of the module and
 * a graceful shutdown, every worker that was idle then has imported it, not only the one that ran it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ProcessPool, ThreadPool, task } from '../../src/index.ts';
import type * as Marker from '../fixtures/load-marker.mjs';
import type * as Ids from '../fixtures/worker-id.mjs';

const workerId = task<typeof Ids.workerId>(new URL('../fixtures/worker-id.mjs', import.meta.url), 'workerId');

describe.each([
  ['ThreadPool', ThreadPool],
  ['ProcessPool', ProcessPool],
] as const)('%s: prefetching task modules', (_, Pool) => {
  test('every idle worker imports a module when its first task goes to one of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-prefetch-'));
    const file = join(dir, 'imports');
    const marked = task<typeof Marker.marked>(new URL(`../fixtures/load-marker.mjs?file=${encodeURIComponent(file)}`, import.meta.url), 'marked');
    const pool = new Pool({ maxWorkers: 2 });
    try {
      // Two tasks at once start both workers (the second finds the first busy); then both are idle.
      const workers = await Promise.all([pool.submit(workerId, []), pool.submit(workerId, [])]);
      expect(new Set(workers).size).toBe(2);
      const ranOn = await pool.submit(marked, []);
      expect(workers).toContain(ranOn);
      // Shutdown waits for the workers to exit, which waits for an import under way to finish.
      await pool.shutdown();
      const imports = readFileSync(file, 'utf8').trim().split('\n');
      expect(imports.sort()).toEqual([...workers].sort());
    } finally {
      await pool.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a worker that is busy gets the module with its first task of it, and imports it once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-prefetch-'));
    const file = join(dir, 'imports');
    const marked = task<typeof Marker.marked>(new URL(`../fixtures/load-marker.mjs?file=${encodeURIComponent(file)}`, import.meta.url), 'marked');
    const pool = new Pool({ maxWorkers: 2 });
    try {
      const ran = await Promise.all(Array.from({ length: 8 }, () => pool.submit(marked, [])));
      await pool.shutdown();
      const imports = readFileSync(file, 'utf8').trim().split('\n');
      expect(new Set(imports).size).toBe(imports.length);
      for (const w of ran) expect(imports).toContain(w);
    } finally {
      await pool.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
