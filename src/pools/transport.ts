/**
 * What differs between a worker thread and a child process, and nothing else: how to start one,
 * post to it, hear from it, notice its exit, and stop it. Queueing, dispatch, timeouts, abort,
 * respawn and shutdown live once, in WorkerPool.
 */

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits, type TransferListItem, type WorkerOptions } from 'node:worker_threads';
import { inheritableExecArgv } from './exec-argv.ts';
import { CLAIMS, type Frame, type FromWorker, type WorkerBoot } from './protocol.ts';

export interface Transport {
  /** Posts a frame. Throws (synchronously, nothing sent) when something in it cannot be cloned. */
  post(frame: Frame, transfer: TransferListItem[] | undefined): void;
  /** Stops the worker now, whatever it is doing. */
  kill(): void;
  /** Threads: the claims array shared with the worker (see WorkerBoot). */
  readonly claims?: Int32Array;
  /** Whether a Buffer arrives as a Buffer (V8 serialisation, processes) or as a plain Uint8Array (structured clone, threads). */
  readonly keepsBuffers: boolean;
  /** A busy worker keeps the process alive; an idle one must not. */
  ref(): void;
  unref(): void;
}

export interface TransportEvents {
  message(message: FromWorker): void;
  /** Called once, after every message the worker sent has been delivered. */
  exit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void;
  /** Called once, after `exit`, when the worker's last handle in this process has closed. */
  closed(): void;
}

export type Spawn = (boot: WorkerBoot, events: TransportEvents) => Transport;

// Plain JavaScript in the source tree and in dist/ alike: a worker started from source (tsx,
// vitest) compiles nothing, and no bootstrap is needed.
const entry = new URL('./worker/entry.js', import.meta.url);
/** URL of the worker entry. */
export const workerEntry = entry.href;

/**
 * The execArgv of worker threads: the parent's, without loader, inspector and eval flags; or
 * undefined (inherit, as Node does by default) when there is nothing to drop. Worked out once.
 */
let threadArgv: { argv: string[] | undefined } | undefined;

function startThread(options: WorkerOptions): Worker {
  if (!threadArgv) {
    const argv = inheritableExecArgv();
    threadArgv = { argv: argv.length === process.execArgv.length ? undefined : argv };
  }
  try {
    return new Worker(entry, { ...options, execArgv: threadArgv.argv });
  } catch (error) {
    // A thread refuses the process-wide flags (V8's --max-old-space-size, --title, --expose-gc…)
    // in an explicit execArgv, though it inherits them silently; they are in effect for the
    // whole process anyway, so leave out the ones Node names (synchronously, no thread started).
    const refused = refusedFlags(error);
    if (!threadArgv.argv || !refused) throw error;
    threadArgv = { argv: threadArgv.argv.filter((arg) => !refused.has(arg)) };
    return new Worker(entry, { ...options, execArgv: threadArgv.argv });
  }
}

/** The flags named by ERR_WORKER_INVALID_EXEC_ARGV ("… invalid execArgv flags: --a, --b"). */
function refusedFlags(error: unknown): Set<string> | undefined {
  if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return undefined;
  const list = /flags: (.+)$/.exec((error as Error).message)?.[1];
  return list ? new Set(list.split(', ')) : undefined;
}

/** Where a worker's stdout goes (PoolOptions.stdout). */
type Stdout = 'inherit' | 'stderr' | 'ignore';

export function threadTransport(options: { resourceLimits?: ResourceLimits | undefined; stdout: Stdout }): Spawn {
  return (boot, events) => {
    const claims = new Int32Array(new SharedArrayBuffer(CLAIMS * Int32Array.BYTES_PER_ELEMENT));
    const own = options.stdout !== 'inherit';
    const worker = startThread({ workerData: { ...boot, claims }, resourceLimits: options.resourceLimits, stdout: own });
    // A thread's stdout is a stream in this thread: to stderr (not ended with it), or drained.
    if (options.stdout === 'stderr') worker.stdout.pipe(process.stderr, { end: false });
    else if (options.stdout === 'ignore') worker.stdout.resume();
    let error: Error | undefined;
    worker.on('message', events.message);
    worker.on('error', (e: Error) => (error ??= e));
    // Node emits 'exit' after the messages the worker posted before dying (checked on Node 20).
    worker.on('exit', (code) => {
      events.exit(code, null, error);
      events.closed();
    });
    return {
      claims,
      keepsBuffers: false,
      post: (frame, transfer) => worker.postMessage(frame, transfer),
      kill: () => void worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  };
}

/** `execArgv` is passed as is: ProcessPool's default is already `inheritableExecArgv()`. */
export function processTransport(options: { execArgv: readonly string[]; env: Readonly<Record<string, string | undefined>>; stdout: Stdout }): Spawn {
  return (boot, events) => {
    // The child's watchdog (worker/watchdog.js) compares its parent with this pid.
    const child = fork(fileURLToPath(entry), [JSON.stringify(boot), String(process.pid)], {
      execArgv: [...options.execArgv],
      env: options.env as NodeJS.ProcessEnv,
      // 'advanced' is V8 serialisation: the same types as structured clone (Map, Set, typed arrays…).
      serialization: 'advanced',
      // fd 1 of the child: ours, our stderr (fd 2), or nothing.
      stdio: ['ignore', options.stdout === 'inherit' ? 'inherit' : options.stdout === 'stderr' ? 2 : 'ignore', 'inherit', 'ipc'],
    });
    child.on('message', events.message as (message: unknown) => void);
    child.on('error', (error: Error) => {
      // A child that never started emits 'error' and no 'close'. Other errors are posts to a child
      // that is already dying (EPIPE, channel closed): its exit says what happened, not them.
      if (child.pid === undefined) {
        events.exit(null, null, error);
        events.closed();
      }
    });
    // 'close', not 'exit': it comes after the IPC channel has delivered everything, so the pool
    // hears of the death at once (it must hand that worker no more tasks). By then the process
    // handle and the channel's pipe are closed, but their close callbacks run in a later phase of
    // the event loop, and until they do both still count as active handles (ProcessWrap,
    // PipeWrap): two turns of the loop pass that phase, whichever phase 'close' came in, so
    // `await pool.shutdown()` resolves with no handle of the pool open.
    child.on('close', (code, signal) => {
      events.exit(code, signal, undefined);
      setImmediate(() => setImmediate(events.closed));
    });
    return {
      keepsBuffers: true,
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
