import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import type { SubmitOptions, Task } from './Pool.ts';
import { describe, isTaskRef } from './task.ts';
import { inheritableExecArgv } from './exec-argv.ts';

/** Options both pools take. */
export interface PoolOptions {
  /**
   * How many workers run at once.
   * @default os.availableParallelism()
   */
  readonly maxWorkers?: number;
  /**
   * Milliseconds a task may run before it fails with `TaskTimeoutError` and its worker is replaced.
   * A per-call `timeout` overrides it. For a batch (chunksize > 1) the limit is per item.
   * @default Infinity
   */
  readonly taskTimeout?: number;
  /**
   * Replace a worker after it has run this many tasks (Python's `max_tasks_per_child`): a remedy
   * for tasks that leak memory.
   * @default Infinity
   */
  readonly maxTasksPerWorker?: number;
  /**
   * Milliseconds an idle worker lives before it exits (a new one starts on demand). Idle workers
   * never keep the process alive, whatever this is.
   * @default Infinity
   */
  readonly idleTimeout?: number;
  /**
   * Runs once in every worker before its first task (Python's `initializer`). If it throws, the
   * pool is broken: pending and later tasks reject with `BrokenPoolError`.
   */
  readonly initializer?: Task;
  /**
   * Arguments for `initializer`.
   * @default []
   */
  readonly initArgs?: readonly unknown[];
  /**
   * Milliseconds a worker's start-up may take, apart from any task's time: coming up and running
   * the `initializer`, and each first import of a task module (a module's top level, e.g. a model
   * it loads). An initializer past it breaks the pool (`BrokenPoolError`); a module import past it
   * fails the tasks waiting for it with `TaskTimeoutError` and costs the worker. So a slow import
   * never eats into `taskTimeout`, and one that never finishes fails after this bound instead of
   * hanging `submit` and `shutdown`.
   * @default the larger of 10 000 and `taskTimeout` (when set)
   */
  readonly startTimeout?: number;
  /**
   * Called with an error that escaped every task (a throw in a timer a task left behind, an
   * unhandled rejection) when no running task is to blame: the task whose code threw it had
   * already returned, or it cannot be told (then `task` is undefined). No task fails for it; the
   * worker it happened in is replaced once idle. (An error escaping a task that is still running
   * fails that task with `WorkerCrashedError`, the error as its cause.)
   * @default prints a warning (process.emitWarning, type 'EscapedTaskError')
   */
  readonly onEscapedError?: (error: Error, task: string | undefined) => void;
  /**
   * Where what tasks print to stdout goes: `'inherit'` (this process's stdout), `'stderr'` (keep
   * stdout for data, as the `rxjs-pools map` command does) or `'ignore'`. Their stderr is always
   * this process's.
   * @default 'inherit'
   */
  readonly stdout?: 'inherit' | 'stderr' | 'ignore';
}

/** Options of `ThreadPool`. */
export interface ThreadPoolOptions extends PoolOptions {
  /** Heap limits of each worker thread (`worker_threads` `resourceLimits`). */
  readonly resourceLimits?: ResourceLimits;
}

/** Options of `ProcessPool`. */
export interface ProcessPoolOptions extends PoolOptions {
  /**
   * Node flags of each child process, e.g. `['--max-old-space-size=256']`, passed exactly as
   * given. By default a child gets the parent's flags without loader flags (`--import`,
   * `--require`/`-r`, `--loader`, `--experimental-loader`: under tsx every child would load a
   * compiler; a TypeScript task module registers tsx in its worker by itself), inspector flags
   * (`--inspect*`, `--debug-port`: each child would try to bind the parent's port; pass
   * `['--inspect=0']` to debug children) and eval flags (`-e`, `-p`). Pass
   * `[...process.execArgv]` to inherit everything.
   * @default process.execArgv without loader, inspector and eval flags
   */
  readonly execArgv?: readonly string[];
  /**
   * Environment of each child process.
   * @default process.env (the parent's environment, whole)
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedPoolOptions {
  readonly startTimeout: number;
  readonly onEscapedError: (error: Error, task: string | undefined) => void;
  readonly stdout: 'inherit' | 'stderr' | 'ignore';
  readonly maxWorkers: number;
  readonly taskTimeout: number;
  readonly maxTasksPerWorker: number;
  readonly idleTimeout: number;
  readonly initializer: Task | undefined;
  readonly initArgs: readonly unknown[];
}

/** Throws a TypeError unless `value` is an integer from `min` up (or Infinity when `infinite`). */
export function expectInteger(name: string, value: unknown, min: number, infinite = false): number {
  if (typeof value === 'number' && ((Number.isInteger(value) && value >= min) || (infinite && value === Infinity))) {
    return value;
  }
  const range = `an integer from ${min} and up${infinite ? ' (or Infinity)' : ''}`;
  throw new TypeError(`Expected \`${name}\` to be ${range}, got ${describe(value)}`);
}

/** Throws a TypeError unless `value` is a number of milliseconds > 0 (or Infinity). */
export function expectDuration(name: string, value: unknown): number {
  if (typeof value === 'number' && value > 0 && !Number.isNaN(value)) return value;
  throw new TypeError(`Expected \`${name}\` to be a number of milliseconds above 0 (or Infinity), got ${describe(value)}`);
}

const MAX_LIMIT_MB = 2 ** 20;

const COMMON = ['maxWorkers', 'taskTimeout', 'maxTasksPerWorker', 'idleTimeout', 'initializer', 'initArgs', 'startTimeout', 'onEscapedError', 'stdout'] as const;
/** The option names `ThreadPool` takes (the operators use it to split their options). */
export const THREAD_POOL_OPTIONS: readonly (keyof ThreadPoolOptions)[] = [...COMMON, 'resourceLimits'];
/** The option names `ProcessPool` takes (the operators use it to split their options). */
export const PROCESS_POOL_OPTIONS: readonly (keyof ProcessPoolOptions)[] = [...COMMON, 'execArgv', 'env'];

function checkKeys(kind: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`Unknown ${kind} option \`${key}\`; known options: ${allowed.join(', ')}`);
    }
  }
}

function resolveCommon(options: PoolOptions): ResolvedPoolOptions {
  const maxWorkers = options.maxWorkers === undefined ? availableParallelism() : expectInteger('maxWorkers', options.maxWorkers, 1);
  const taskTimeout = options.taskTimeout === undefined ? Infinity : expectDuration('taskTimeout', options.taskTimeout);
  const maxTasksPerWorker =
    options.maxTasksPerWorker === undefined ? Infinity : expectInteger('maxTasksPerWorker', options.maxTasksPerWorker, 1, true);
  const idleTimeout = options.idleTimeout === undefined ? Infinity : expectDuration('idleTimeout', options.idleTimeout);
  const { initializer } = options;
  if (initializer !== undefined && typeof initializer !== 'function' && !isTaskRef(initializer)) {
    throw new TypeError(`Expected \`initializer\` to be a function or a task(module, name) reference, got ${describe(initializer)}`);
  }
  const initArgs = options.initArgs ?? [];
  if (!Array.isArray(initArgs)) throw new TypeError(`Expected \`initArgs\` to be an array, got ${describe(initArgs)}`);
  try {
    structuredClone(initArgs);
  } catch (error) {
    throw new TypeError(`\`initArgs\` cannot be sent to a worker: ${(error as Error).message}`, { cause: error });
  }
  if (options.initArgs !== undefined && initializer === undefined) {
    throw new TypeError('`initArgs` was given without an `initializer` to receive them');
  }
  const startTimeout =
    options.startTimeout === undefined ? Math.max(10_000, taskTimeout === Infinity ? 0 : taskTimeout) : expectDuration('startTimeout', options.startTimeout);
  const onEscapedError = options.onEscapedError ?? warnEscaped;
  if (typeof onEscapedError !== 'function') throw new TypeError(`Expected \`onEscapedError\` to be a function, got ${describe(onEscapedError)}`);
  const stdout = options.stdout ?? 'inherit';
  if (!['inherit', 'stderr', 'ignore'].includes(stdout)) {
    throw new TypeError(`Expected \`stdout\` to be 'inherit', 'stderr' or 'ignore', got ${describe(stdout)}`);
  }
  return { maxWorkers, taskTimeout, maxTasksPerWorker, idleTimeout, initializer, initArgs, startTimeout, onEscapedError, stdout };
}

/** The default of `onEscapedError`: never silent. */
function warnEscaped(error: Error, task: string | undefined): void {
  const where = task === undefined ? 'a pool worker (no task can be blamed)' : `task ${task} after it returned`;
  process.emitWarning(`An error escaped ${where}: ${error.name}: ${error.message}`, { type: 'EscapedTaskError', detail: error.stack });
}

function expectObject(what: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected ${what} to be an object, got ${describe(value)}`);
  }
}

/** Validates `ThreadPool` options eagerly (the operators call it when they are created). */
export function validateThreadPoolOptions(options: ThreadPoolOptions = {}): ResolvedPoolOptions & Pick<ThreadPoolOptions, 'resourceLimits'> {
  expectObject('ThreadPool options', options);
  checkKeys('ThreadPool', options, THREAD_POOL_OPTIONS);
  const { resourceLimits } = options;
  if (resourceLimits !== undefined) {
    expectObject('`resourceLimits`', resourceLimits);
    for (const [key, value] of Object.entries(resourceLimits)) {
      if (!['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'].includes(key)) {
        throw new TypeError(`Unknown \`resourceLimits\` field \`${key}\``);
      }
      if (typeof value !== 'number' || !(value > 0)) {
        throw new TypeError(`Expected \`resourceLimits.${key}\` to be a number above 0, got ${describe(value)}`);
      }
      // V8 aborts the whole process on absurd sizes (codeRangeSizeMb: 1e9), so cap them at 1 TiB.
      if (value > MAX_LIMIT_MB) {
        throw new TypeError(`Expected \`resourceLimits.${key}\` to be at most ${MAX_LIMIT_MB} (1 TiB), got ${describe(value)}`);
      }
    }
  }
  return { ...resolveCommon(options), resourceLimits };
}

/** Validates `ProcessPool` options eagerly (the operators call it when they are created). */
export function validateProcessPoolOptions(
  options: ProcessPoolOptions = {},
): ResolvedPoolOptions & Required<Pick<ProcessPoolOptions, 'execArgv' | 'env'>> {
  expectObject('ProcessPool options', options);
  checkKeys('ProcessPool', options, PROCESS_POOL_OPTIONS);
  const execArgv = options.execArgv ?? inheritableExecArgv();
  if (!Array.isArray(execArgv) || !execArgv.every((a) => typeof a === 'string')) {
    throw new TypeError(`Expected \`execArgv\` to be an array of strings, got ${describe(execArgv)}`);
  }
  for (const arg of execArgv) {
    if (arg.includes('\0')) throw new TypeError(`Expected \`execArgv\` entries without NUL bytes, got ${describe(arg)}`);
  }
  const env = options.env ?? process.env;
  expectObject('`env`', env);
  // fork() would throw on these at the first submit; say so now, naming the variable.
  for (const [key, value] of Object.entries(env)) {
    if (key.includes('\0') || key.includes('=')) throw new TypeError(`Expected \`env\` names without NUL bytes or '=', got ${describe(key)}`);
    if (value !== undefined && (typeof value !== 'string' || value.includes('\0'))) {
      throw new TypeError(`Expected \`env\` values to be strings without NUL bytes (or undefined), got ${key}: ${describe(value)}`);
    }
  }
  return { ...resolveCommon(options), execArgv, env };
}

/** Checks `submit`'s per-call options. */
export function checkSubmitOptions(options: SubmitOptions | undefined): { signal?: AbortSignal; timeout?: number; transfer?: TransferListItem[] } {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected options to be an object, got ${describe(options)}`);
  const { signal, timeout, transfer } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
  if (timeout !== undefined) expectDuration('timeout', timeout);
  if (transfer !== undefined && !Array.isArray(transfer)) throw new TypeError(`Expected \`transfer\` to be an array, got ${describe(transfer)}`);
  return { signal, timeout, transfer: transfer as TransferListItem[] | undefined };
}
