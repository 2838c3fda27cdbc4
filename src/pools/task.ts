import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyFn, TaskRef } from './Pool.ts';

/**
 * Names a function exported by a module, for a pool to run.
 *
 * Workers import the module themselves, so unlike an inline function the task may use imports,
 * module state and closures. `.ts` modules work under tsx and vitest; `.js` modules everywhere.
 *
 * @example
 * ```ts
 * const digest = task<typeof import('./tasks.ts').digest>(new URL('./tasks.ts', import.meta.url), 'digest');
 * await pool.submit(digest, [buffer]);
 * ```
 * @param module The module: a `URL`, a URL string, or an absolute path. Relative paths are refused
 * (relative to what?): use `new URL('./tasks.ts', import.meta.url)`.
 * @param name The export to call; `'default'` for the default export.
 * @returns A frozen reference, usable with every pool and operator.
 */
export function task<F extends AnyFn>(module: string | URL, name = 'default'): TaskRef<F> {
  let href: string;
  if (module instanceof URL) {
    href = module.href;
  } else if (typeof module === 'string' && isAbsolute(module)) {
    href = pathToFileURL(module).href;
  } else if (typeof module === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(module)) {
    href = new URL(module).href;
  } else {
    throw new TypeError(
      `Expected \`module\` to be a URL or an absolute path, got ${describe(module)}: ` +
        `write new URL('./tasks.ts', import.meta.url) so it resolves against your module, not the worker's`,
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`Expected \`name\` to be the name of an export, got ${describe(name)}`);
  }
  return Object.freeze({ module: href, name });
}

/** True when `value` is a {@link TaskRef} made by {@link task}. */
export function isTaskRef(value: unknown): value is TaskRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TaskRef).module === 'string' &&
    typeof (value as TaskRef).name === 'string'
  );
}

/** `0 (number)`, `'3' (string)`: how a bad value is shown in error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'function') {
    // A bound function is named "bound " + its target's name, which may be empty.
    const name = value.name.replace(/^bound $/, 'bound (anonymous)') || '(anonymous)';
    return `function ${name}`;
  }
  if (value === null) return 'null';
  if (typeof value === 'object') return `${Object.prototype.toString.call(value).slice(8, -1)} object`;
  return `${String(value)} (${typeof value})`;
}
