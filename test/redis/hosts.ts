/** The tests' worker hosts: scripts/worker-hosts.ts (shared with the cluster demo and the bench), and polling. */
import { readdirSync, readFileSync } from 'node:fs';
export { FAST_STALL, repo, startHost, stopAllHosts, type Host, type StartHostOptions } from '../../scripts/worker-hosts.ts';

/** Polls `condition` every 20 ms until it holds or `ms` pass (then throws `what`). */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * This process's child processes (from /proc), but tsx's esbuild service: a worker thread that
 * loads a .ts task starts one (a known tsx issue; see test/faults/leaks.test.ts).
 */
export function childProcesses(): string[] {
  const children: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid === process.pid && name !== 'esbuild') children.push(`${pid} ${name}`);
  }
  return children;
}
