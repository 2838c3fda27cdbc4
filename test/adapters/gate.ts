/**
 * Test side of the gated task (fixtures/tasks.mjs): a Unix-domain socket on which tasks, in any
 * library's workers, say they started, wait for `release`, and say they finished. Events only:
 * `started`, `finished` and `closed` resolve when the task's message (or its socket's end) arrives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Gate extends AsyncDisposable {
  readonly path: string;
  /** Values whose task started, in order. */
  readonly started: unknown[];
  /** Values whose task finished after its release, in order. */
  readonly finished: unknown[];
  /** Resolves when the task holding `value` has started. */
  whenStarted(value: unknown): Promise<void>;
  /** Resolves when its socket closed: after it finished, or because its worker was terminated. */
  whenClosed(value: unknown): Promise<void>;
  /** Lets the task holding `value` return. */
  release(value: unknown): void;
}

export async function openGate(): Promise<Gate> {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-adapters-'));
  const path = join(dir, 'gate.sock');
  const sockets = new Map<string, Socket>();
  const events = new Map<string, Set<() => void>>();
  const happened = new Set<string>();
  const emit = (event: string) => {
    happened.add(event);
    for (const fn of events.get(event) ?? []) fn();
    events.delete(event);
  };
  const when = (event: string) =>
    happened.has(event) ? Promise.resolve() : new Promise<void>((resolve) => events.set(event, (events.get(event) ?? new Set()).add(resolve)));
  const started: unknown[] = [];
  const finished: unknown[] = [];
  const all = new Set<Socket>();
  const server = createServer((socket) => {
    all.add(socket);
    let key: string | undefined;
    socket.on('error', () => {});
    socket.on('close', () => {
      all.delete(socket);
      if (key !== undefined) emit(`closed:${key}`);
    });
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, nl)) as { value: unknown; done?: boolean };
        buffer = buffer.slice(nl + 1);
        key = JSON.stringify(line.value);
        if (line.done) {
          finished.push(line.value);
          continue;
        }
        started.push(line.value);
        sockets.set(key, socket);
        emit(`started:${key}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    started,
    finished,
    whenStarted: (value) => when(`started:${JSON.stringify(value)}`),
    whenClosed: (value) => when(`closed:${JSON.stringify(value)}`),
    release(value) {
      sockets.get(JSON.stringify(value))?.write('go\n');
    },
    async [Symbol.asyncDispose]() {
      for (const socket of all) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
