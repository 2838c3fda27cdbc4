/**
 * Worker hosts as child processes, for the tests, the cluster demo and the bench: `rxjs-pools
 * worker …` from source (what `npx tsx src/cli.ts worker` runs) or built (`node dist/cli.js`),
 * each waited for by its "ready" line and stopped afterwards.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { guarded } from './redis-server.ts';

export const repo = fileURLToPath(new URL('../', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const built = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

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
  /** Run the built command (dist/cli.js) under plain node instead of the source under tsx. */
  readonly built?: boolean;
  /** Where its stderr goes besides being kept: e.g. process.stderr for a demo. */
  readonly echo?: NodeJS.WritableStream;
}

/** Starts a host on `url`/`queue` and resolves once it printed its ready line. */
export async function startHost(url: string, queue: string, options: StartHostOptions): Promise<Host> {
  const args = [
    ...(options.built ? [built] : ['--import', 'tsx', cli]), 'worker', '--redis', url, '--queue', queue, '--threads', String(options.threads ?? 1),
    '--name', options.name, '--root', repo, ...(options.args ?? []),
  ];
  const [command, argv] = guarded(process.execPath, args);
  const child = spawn(command, argv, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    options.echo?.write(chunk);
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
