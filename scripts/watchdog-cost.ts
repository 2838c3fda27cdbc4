/**
 * What the parent-death watchdog (src/pools/worker/watchdog.js) costs a ProcessPool child:
 *
 *   npx tsx scripts/watchdog-cost.ts [--rounds N]
 *
 * Forks pairs of plain Node children (no tsx, NODE_EXTRA_CA_CERTS removed), one that starts a
 * watchdog as a pool child does and one that does not, interleaved round by round, and reports
 * medians of: the time the watchdog's start takes on the child's main thread, the child's RSS and
 * CPU time 1 s after it started, its CPU time per second while idle (from 5 s to 15 s after it
 * started, once start-up garbage is collected), and how long it takes to exit once asked (the
 * thread is torn down at exit). Each child lives ~16 s: 7 rounds take about 4 minutes.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const childScript = fileURLToPath(new URL('./watchdog-cost-child.mjs', import.meta.url));

interface Probe {
  readonly startMs: number;
  readonly rssMb: number;
  readonly cpuMs: number;
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } });
const rounds = Number(values.rounds);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const next = <T>(child: ReturnType<typeof fork>) => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)); // a measuring interval, not a synchronisation
type Row = { startMs: number; rssMb: number; cpuMs: number; idleCpuMsPerS: number; exitMs: number };
const rows: Record<'none' | 'watchdog', Row[]> = { none: [], watchdog: [] };
for (let round = 0; round < rounds; round++) {
  for (const mode of round % 2 === 0 ? (['none', 'watchdog'] as const) : (['watchdog', 'none'] as const)) {
    const child = fork(childScript, [mode], { execArgv: [], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await next<'up'>(child);
    await delay(1_000);
    child.send('probe');
    const first = await next<Probe>(child);
    await delay(4_000);
    child.send('probe');
    const idleFrom = await next<Probe>(child);
    await delay(10_000);
    child.send('probe');
    const idleTo = await next<Probe>(child);
    const asked = performance.now();
    const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now() - asked)));
    child.send('exit');
    rows[mode].push({ startMs: first.startMs, rssMb: first.rssMb, cpuMs: first.cpuMs, idleCpuMsPerS: (idleTo.cpuMs - idleFrom.cpuMs) / 10, exitMs: await exited });
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fields = ['startMs', 'rssMb', 'cpuMs', 'idleCpuMsPerS', 'exitMs'] as const;
console.log(`watchdog cost, ${rounds} rounds, medians (Node ${process.version}):`);
for (const field of fields) {
  const none = median(rows.none.map((r) => r[field]));
  const watchdog = median(rows.watchdog.map((r) => r[field]));
  console.log(`  ${field.padEnd(13)} without ${none.toFixed(1).padStart(7)}   with ${watchdog.toFixed(1).padStart(7)}   difference ${(watchdog - none).toFixed(1).padStart(7)}`);
}
