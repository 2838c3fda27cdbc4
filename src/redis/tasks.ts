/**
 * Task identity across machines. A `task(new URL('./tasks.ts', import.meta.url), 'digest')` travels
 * as its path relative to a code root plus the export name, so a host with the same code checked
 * out elsewhere (its `--root`) finds the same module. An inline function travels by its source.
 */

import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TaskRef } from '../pools/Pool.ts';
import { describe, isTaskRef, task } from '../pools/task.ts';
import type { TaskSpec } from './codec.ts';

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Resolves the code root once (symlinks too, so /tmp and /private/tmp agree). */
export function resolveRoot(root: string): string {
  return real(resolve(root));
}

/** The spec of a task, pool side. Throws a TypeError naming the problem. */
export function specOf(fn: unknown, root: string, cache: Map<unknown, TaskSpec>): TaskSpec {
  const cached = cache.get(fn);
  if (cached) return cached;
  let spec: TaskSpec;
  if (typeof fn === 'function') {
    const source = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}$/.test(source)) {
      throw new TypeError(
        `${describe(fn)} is a bound or native function, which cannot be sent to a worker: ` +
          `pass a plain function, or export it from a module and use task(new URL('./tasks.ts', import.meta.url), 'name')`,
      );
    }
    spec = { k: 'inline', source, name: fn.name || '(anonymous)' };
  } else if (isTaskRef(fn)) {
    const ref = fn as TaskRef;
    if (!ref.module.startsWith('file:')) {
      throw new TypeError(`A RedisPool runs module tasks from files under its \`root\`, and ${ref.module} is not a file: URL`);
    }
    const path = real(fileURLToPath(ref.module));
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new TypeError(
        `Task module ${path} is outside the code root ${root}: worker hosts find a task by its path under their --root, ` +
          'so pass the `root` option (the directory your code lives in; the default is the current directory)',
      );
    }
    spec = { k: 'module', path: rel.split(sep).join('/'), name: ref.name };
  } else {
    throw new TypeError(`Expected a task: a function or a task(module, name) reference, got ${describe(fn)}`);
  }
  if (cache.size > 1024) cache.clear();
  cache.set(fn, spec);
  return spec;
}

/** Why a host refuses a task: thrown to the pool as the job's error. */
export class TaskRefusedError extends TypeError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The runnable task for a spec, host side: a TaskRef under `root`, or (with `allowInline`) the
 * inline function rebuilt from its source. Cached per spec, so the local pool defines each once.
 */
export function resolveSpec(
  spec: TaskSpec,
  root: string,
  allowInline: boolean,
  cache: Map<string, TaskRef | ((...args: unknown[]) => unknown)>,
): TaskRef | ((...args: unknown[]) => unknown) {
  const key = spec.k === 'module' ? `m:${spec.name}@${spec.path}` : `i:${spec.source}`;
  const cached = cache.get(key);
  if (cached) return cached;
  let resolved: TaskRef | ((...args: unknown[]) => unknown);
  if (spec.k === 'inline') {
    if (!allowInline) {
      throw new TaskRefusedError(
        `This worker host refuses inline functions (task ${spec.name}): whoever can write to Redis could run code on every host. ` +
          `Export the function from a module under the code root and use task(new URL('./tasks.ts', import.meta.url), '${spec.name === '(anonymous)' ? 'name' : spec.name}'), ` +
          'or start the host with --allow-inline',
        'ERR_INLINE_REFUSED',
      );
    }
    resolved = compile(spec.source, spec.name);
  } else {
    if (typeof spec.path !== 'string' || spec.path.includes('\0') || isAbsolute(spec.path)) {
      throw new TaskRefusedError(`Task module path ${JSON.stringify(spec.path)} is not a relative path`, 'ERR_TASK_OUTSIDE_ROOT');
    }
    const path = resolve(root, spec.path);
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new TaskRefusedError(`Task module ${spec.path} is outside this host's code root ${root} (--root): refused`, 'ERR_TASK_OUTSIDE_ROOT');
    }
    let file: string;
    try {
      file = realpathSync(path);
    } catch {
      throw new TaskRefusedError(
        `Task module ${spec.path} was not found under this host's code root ${root} (--root): is the same code deployed here?`,
        'ERR_TASK_NOT_FOUND',
      );
    }
    const realRel = relative(root, file);
    if (realRel.startsWith('..') || isAbsolute(realRel)) {
      throw new TaskRefusedError(`Task module ${spec.path} links outside this host's code root ${root} (--root): refused`, 'ERR_TASK_OUTSIDE_ROOT');
    }
    resolved = task(pathToFileURL(file), spec.name);
  }
  if (cache.size > 256) cache.clear();
  cache.set(key, resolved);
  return resolved;
}

/** An inline function from its source: an expression, or a method shorthand `f(x) {…}` (as the local workers do). */
function compile(source: string, name: string): (...args: unknown[]) => unknown {
  try {
    const fn = new Function(`return (${source}\n)`)() as unknown;
    if (typeof fn === 'function') return fn as (...args: unknown[]) => unknown;
  } catch {
    // try the method shorthand
  }
  try {
    const holder = new Function(`return ({${source}\n})`)() as Record<string, unknown>;
    const fn = Object.values(holder)[0];
    if (typeof fn === 'function') return fn as (...args: unknown[]) => unknown;
  } catch {
    // fall through
  }
  throw new TaskRefusedError(`Inline task ${name} could not be rebuilt from its source on the worker host`, 'ERR_INLINE_SYNTAX');
}
