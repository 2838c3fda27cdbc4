// @ts-check
/**
 * Children never outlive their parent. A ProcessPool child learns that the pool's process is gone
 * in one of two ways:
 *
 * - Idle (its event loop turns): the IPC channel closes and 'disconnect' ends it (entry.js).
 * - Busy in synchronous code (a spin, a long loop, `Atomics.wait`): its event loop never turns, so
 *   nothing on the main thread can notice. A watchdog thread looks at `process.ppid` every
 *   WATCHDOG_POLL_MS and SIGKILLs the process once the parent has changed (on Linux and macOS a
 *   dead parent's children are re-parented at once, to init or a subreaper), or, on Windows, which
 *   re-parents nobody, once the parent's pid no longer exists.
 *
 * Node 20 has no prctl(PR_SET_PDEATHSIG), which would make the kernel do this for free; a thread
 * is the cheapest thing that runs while the main thread is stuck. To keep it cheap it is a
 * CommonJS script evaluated from source (no module loader, no tsx: `execArgv: []`, so it never
 * inherits the child's loaders), it shares the child's environment instead of copying it, it
 * sleeps in `Atomics.wait` between looks (no event loop, no timer: a look is one wake-up, about
 * half the CPU of a `setInterval` tick, measured), it is unref'd (it never keeps the child alive:
 * a child that ends normally just ends; termination at exit interrupts the wait). It starts with
 * the child, before the child reads its first message, so that it boots while the child loads
 * rather than while a task spins: on an overloaded machine a thread that must boot (about 60-100
 * ms of CPU) beside a spinning main thread took seconds to get going. What it costs a child is
 * measured by scripts/watchdog-cost.ts (README, "Reliability").
 *
 * It can only kill a child whose parent has died: the pid it compares with is the parent's own
 * `process.pid`, handed over at fork (not read from `process.ppid` later, when the parent might
 * already be gone).
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';

/** How often the watchdog looks for its parent, in ms: about how long a busy orphan lives at most. */
export const WATCHDOG_POLL_MS = 500;

/**
 * The watchdog thread's whole program. It is sent as source text, so it may use nothing from this
 * module's scope.
 * @param {{ parent: number, every: number }} data
 */
function watch({ parent, every }) {
  const gone = () => {
    if (process.ppid !== parent) return true;
    try {
      process.kill(parent, 0);
      return false;
    } catch (error) {
      return /** @type {NodeJS.ErrnoException} */ (error).code === 'ESRCH';
    }
  };
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (!gone()) Atomics.wait(tick, 0, 0, every);
  // Nobody is left to read this child's answers: end it now, whatever its main thread is doing.
  process.kill(process.pid, 'SIGKILL');
}

let started = false;

/**
 * Starts the watchdog of a ProcessPool child (once; later calls do nothing).
 * @param {number} parent the pid of the pool's process, as the pool passed it at fork
 */
export function startWatchdog(parent) {
  if (started || !Number.isSafeInteger(parent) || parent <= 0) return;
  started = true;
  const thread = new Worker(`(${watch})(require('node:worker_threads').workerData)`, {
    eval: true,
    workerData: { parent, every: WATCHDOG_POLL_MS },
    execArgv: [],
    env: SHARE_ENV,
    trackUnmanagedFds: false,
  });
  thread.unref();
  // A watchdog that fails must not take the child with it (an 'error' without a listener would).
  thread.on('error', () => {});
}
