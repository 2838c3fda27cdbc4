/**
 * The 1-minute soak, as CI runs it: scripts/soak.ts in a child process (`--minutes 1`), judged by
 * the result it prints. Plus the RSS verdict itself, on synthetic series, so "flat" is known to
 * mean something.
 */
import { describe, expect, test } from 'vitest';
import { rssVerdict } from '../../scripts/rss-verdict.ts';
import { runScript } from './fixtures/harness.ts';

const MiB = 1024 * 1024;

describe('the RSS verdict', () => {
  const noise = (i: number) => ((i * 7919) % 13) - 6; // deterministic ±6 MiB wobble
  test('a series that wobbles around a level is flat, warm-up included', () => {
    const series = Array.from({ length: 60 }, (_, i) => (i < 10 ? 80 + i * 12 : 200 + noise(i)) * MiB);
    const verdict = rssVerdict(series, 32);
    expect(verdict.flat).toBe(true);
    expect(verdict.startMb).toBe(80);
    expect(verdict.peakMb).toBeLessThanOrEqual(206);
  });

  test('a series that keeps growing (1 MiB a second) is not flat', () => {
    const series = Array.from({ length: 60 }, (_, i) => (200 + i + noise(i)) * MiB);
    const verdict = rssVerdict(series, 24);
    expect(verdict.flat).toBe(false);
    expect(verdict.growthMb).toBeGreaterThan(24);
    expect(verdict.reason).toMatch(/keeps growing/);
  });

  test('too few samples is not a pass', () => {
    expect(rssVerdict([1, 2, 3].map((x) => x * MiB), 32).flat).toBe(false);
  });
});

test('npm run soak -- --minutes 1: both runtimes, random faults, parents killed while their children spin; nothing lost, every fault survived, no orphan, RSS flat, nothing left', async () => {
  const run = await runScript(new URL('../../scripts/soak.ts', import.meta.url), ['--minutes', '1'], 150_000);
  expect(run.killed).toBe(false);
  const line = run.stdout.split('\n').find((l) => l.startsWith('SOAK_RESULT '));
  expect(line, `no SOAK_RESULT line; stderr:\n${run.stderr.slice(-2_000)}`).toBeDefined();
  const result = JSON.parse(line!.slice('SOAK_RESULT '.length));
  console.log(run.stdout.split('\nSOAK_RESULT')[0]);
  expect(result.problems).toEqual([]);
  expect(result.faultsSurvived).toBe(result.faultsInjected);
  // Every kind of fault was injected at least once, the costly ones included.
  for (const kind of ['throw', 'reject', 'error-record', 'stream-crash', 'unsubscribe', 'cancel-burst', 'sigkill']) expect(result.injected[kind]).toBeGreaterThan(0);
  expect((result.injected.exit ?? 0) + (result.injected['async-throw'] ?? 0) + (result.injected.hang ?? 0)).toBeGreaterThan(0);
  expect(result.itemsChecked).toBeGreaterThan(10_000);
  expect(result.leftChildren).toBe(0);
  // Parent deaths (issue 12): as many as the minute allows, the ways of dying taken in turn (each
  // way for each kind of parent is in parent-death.test.ts); every child gone, each parent died as told.
  expect(result.injected['parent-death']).toBeGreaterThan(0);
  expect(result.orphansLeft).toBe(0);
  expect(result.rss.flat, result.rss.reason).toBe(true);
  expect(result.ok).toBe(true);
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
}, 180_000);
