/**
 * Loading module tasks, in a worker. No side effects at import: the CLI's initializer uses it too.
 */

type Fn = (...args: unknown[]) => unknown;

/** Set while a task module is being imported; a pool created then is a RecursivePoolError. */
const IMPORTING = Symbol.for('rxjs-pools.importing');
let tsxRegistered = false;

/**
 * Imports a task module and returns the named export, checked to be a function. Used by workers
 * for module tasks (and by the CLI to check a module once per worker).
 */
export async function loadExport(url: string, name: string): Promise<Fn> {
  const globals = globalThis as Record<PropertyKey, unknown>;
  globals[IMPORTING] = url;
  let module: Record<string, unknown>;
  try {
    module = await importModule(url);
  } catch (error) {
    // Node's SyntaxError for a module names neither the file nor the line in message or stack.
    if (error instanceof SyntaxError && !error.message.includes(url) && !String(error.stack).includes(url)) {
      error.message += ` (in task module ${url})`;
    }
    throw error;
  } finally {
    globals[IMPORTING] = undefined;
  }
  if (!(name in module)) {
    const names = Object.keys(module).join(', ') || 'nothing';
    throw new TypeError(`Module ${url} has no export \`${name}\` (it exports: ${names})`);
  }
  const fn = module[name];
  if (typeof fn !== 'function') {
    throw new TypeError(`Export \`${name}\` of ${url} is not a function (got ${typeof fn})`);
  }
  return fn as Fn;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return await import(url);
  } catch (error) {
    // A .ts module outside tsx (vitest, or a built app importing .ts tasks): register tsx's
    // loader in this worker and try once more. Node caches the failed import of this URL, so the
    // retry asks for it under a distinct one.
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    if (!tsxRegistered) {
      try {
        const { register } = await import('tsx/esm/api');
        register();
        tsxRegistered = true;
      } catch {
        throw new TypeError(`Task module ${url} is TypeScript and tsx is not installed: \`npm install -D tsx\`, or build it to .js`, {
          cause: error,
        });
      }
    }
    return await import(`${url}${url.includes('?') ? '&' : '?'}rxjs-pools-tsx`);
  }
}

