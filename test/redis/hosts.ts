/** The tests' worker hosts: scripts/worker-hosts.ts (shared with the cluster demo and the bench), and polling. */
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
