/**
 * A real redis-server for the tests, the cluster demo and the bench (Debian's package:
 * `apt-get install -y redis-server`), on a free port, in a temp folder, started and stopped by
 * whoever needs it. No mock Redis.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** `--appendonly yes`: the data survives a restart. */
  readonly appendonly?: boolean;
  /** `--requirepass`. */
  readonly password?: string;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (with the password when there is one). */
  readonly url: string;
  readonly dir: string;
  readonly process: ChildProcess;
  /** Stops it (SIGTERM: with appendonly, the data is flushed to disk first) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder; `options` may change persistence. */
  restart(options?: RedisServerOptions): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

const started = new Set<RedisServer>();

/**
 * Run a child under `setpriv --pdeathsig KILL` (util-linux, always on Debian) when there is one:
 * if whoever started it dies without stopping it (a test run killed at its timeout), it goes too.
 */
export function guarded(command: string, args: readonly string[]): [string, string[]] {
  return existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no',
    '--dir', dir, '--daemonize', 'no', '--logfile', '', '--protected-mode', 'no',
  ];
  if (options.password) args.push('--requirepass', options.password);
  const [command, argv] = guarded('redis-server', args);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('error', (error) =>
      reject(new Error(`cannot start redis-server (${error.message}): install it with apt-get install -y redis-server`, { cause: error })),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} before it was ready:\n${out}`)));
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Starts a redis-server on a free port in a new temp folder. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-redis-'));
  const port = await freePort();
  let child = await launch(port, dir, options);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const server: RedisServer = {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    get process() {
      return child;
    },
    stop: () => terminate(child),
    async restart(next = options) {
      await terminate(child);
      child = await launch(port, dir, next);
    },
    async close() {
      started.delete(server);
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(server);
  return server;
}

/** Stops every server this process started (for afterAll). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...started].map((server) => server.close()));
}
