/**
 * Worker hosts for the tests: `rxjs-pools worker …` run from source as child processes (what
 * `npx tsx src/cli.ts worker` runs), each waited for by its "ready" line and stopped afterwards.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface Host {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  readonly stderr: () => string;
  /** Resolves with its exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

const hosts = new Set<Host>();

/** Fast lock and stall settings for tests that kill hosts (the defaults give ~12 s). */
export const FAST_STALL = ['--lock-duration', '1000', '--stalled-interval', '500'];

export interface StartHostOptions {
  readonly name: string;
  readonly threads?: number;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts a host on `url`/`queue` and resolves once it printed its ready line. */
export async function startHost(url: string, queue: string, options: StartHostOptions): Promise<Host> {
  const args = [
    '--import', 'tsx', cli, 'worker', '--redis', url, '--queue', queue, '--threads', String(options.threads ?? 1),
    '--name', options.name, '--root', repo, ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(stderr)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stdout!.resume();
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const host: Host = {
    name: options.name,
    child,
    stderr: () => stderr,
    exited,
    waitFor: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ pattern, resolve });
            void exited.then(({ code, signal }) => reject(new Error(`host ${options.name} exited (${code ?? signal}) before ${pattern}:\n${stderr}`)));
          }),
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  hosts.add(host);
  void exited.then(() => hosts.delete(host));
  await host.waitFor(/: ready ·/);
  return host;
}

/** Kills every host still running and waits for their exits (for afterEach / afterAll). */
export async function stopAllHosts(): Promise<void> {
  const all = [...hosts];
  for (const host of all) host.kill('SIGKILL');
  await Promise.all(all.map((host) => host.exited));
}

/** Polls `condition` every 20 ms until it holds or `ms` pass (then throws `what`). */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
