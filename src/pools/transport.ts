/**
 * What differs between a worker thread and a child process, and nothing else: how to start one,
 * post to it, hear from it, notice its exit, and stop it. Queueing, dispatch, timeouts, abort,
 * respawn and shutdown live once, in WorkerPool.
 */

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import { CLAIMS, type Frame, type FromWorker, type WorkerBoot } from './protocol.ts';

export interface Transport {
  /** Posts a frame. Throws (synchronously, nothing sent) when something in it cannot be cloned. */
  post(frame: Frame, transfer: TransferListItem[] | undefined): void;
  /** Stops the worker now, whatever it is doing. */
  kill(): void;
  /** Threads: the claims array shared with the worker (see WorkerBoot). */
  readonly claims?: Int32Array;
  /** A busy worker keeps the process alive; an idle one must not. */
  ref(): void;
  unref(): void;
}

export interface TransportEvents {
  message(message: FromWorker): void;
  /** Called once, after every message the worker sent has been delivered. */
  exit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void;
}

export type Spawn = (boot: WorkerBoot, events: TransportEvents) => Transport;

// Running from TypeScript source (tsx, vitest) the entry is worker.ts and must be started through
// the bootstrap, which registers tsx; from dist/ it is worker.js, started directly.
const fromSource = import.meta.url.endsWith('.ts');
const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
const script = fromSource ? new URL('./bootstrap.mjs', import.meta.url) : entry;
/** URL of the worker module, handed to the bootstrap. */
export const workerEntry = entry.href;

export function threadTransport(options: { resourceLimits?: ResourceLimits | undefined }): Spawn {
  return (boot, events) => {
    const claims = new Int32Array(new SharedArrayBuffer(CLAIMS * Int32Array.BYTES_PER_ELEMENT));
    const worker = new Worker(script, { workerData: { ...boot, claims }, resourceLimits: options.resourceLimits });
    let error: Error | undefined;
    worker.on('message', events.message);
    worker.on('error', (e: Error) => (error ??= e));
    // Node emits 'exit' after the messages the worker posted before dying (checked on Node 20).
    worker.on('exit', (code) => events.exit(code, null, error));
    return {
      claims,
      post: (frame, transfer) => worker.postMessage(frame, transfer),
      kill: () => void worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  };
}

export function processTransport(options: { execArgv: readonly string[]; env: Readonly<Record<string, string | undefined>> }): Spawn {
  return (boot, events) => {
    const child = fork(fileURLToPath(script), [JSON.stringify(boot)], {
      execArgv: [...options.execArgv],
      env: options.env as NodeJS.ProcessEnv,
      // 'advanced' is V8 serialisation: the same types as structured clone (Map, Set, typed arrays…).
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', events.message as (message: unknown) => void);
    child.on('error', (error: Error) => {
      // A child that never started emits 'error' and no 'close'. Other errors are posts to a child
      // that is already dying (EPIPE, channel closed): its exit says what happened, not them.
      if (child.pid === undefined) events.exit(null, null, error);
    });
    // 'close', not 'exit': it comes after the IPC channel has delivered everything.
    child.on('close', (code, signal) => events.exit(code, signal, undefined));
    return {
      post: (frame) => void child.send(frame),
      kill: () => void child.kill('SIGKILL'),
      ref: () => {
        child.ref();
        child.channel?.ref();
      },
      unref: () => {
        child.unref();
        child.channel?.unref();
      },
    };
  };
}
