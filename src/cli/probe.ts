/**
 * The CLI's pool initializer: imports the user's task module in each worker before its first
 * record and checks the export, so a wrong path or name fails the run once, with one clear message,
 * instead of failing every record. It also warms the module up.
 */

/** Set while a task module is being imported, so a module that creates a pool gets RecursivePoolError. */
const IMPORTING = Symbol.for('rxjs-pools.importing');

export async function probe(url: string, name: string): Promise<void> {
  const module = await importTaskModule(url);
  if (!(name in module)) {
    const names = Object.keys(module).join(', ') || 'nothing';
    throw new TypeError(`${url} has no export \`${name}\` (it exports: ${names})`);
  }
  if (typeof module[name] !== 'function') {
    throw new TypeError(`Export \`${name}\` of ${url} is not a function (it is ${typeof module[name]})`);
  }
}

async function importTaskModule(url: string): Promise<Record<string, unknown>> {
  const globals = globalThis as Record<PropertyKey, unknown>;
  globals[IMPORTING] = url;
  try {
    return await import(url);
  } catch (error) {
    // A .ts module run from the built CLI (plain Node): load it through tsx if it is installed,
    // as the pool's workers do for module tasks.
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    let register: () => unknown;
    try {
      ({ register } = await import('tsx/esm/api'));
    } catch {
      throw new TypeError(`${url} is TypeScript and tsx is not installed: \`npm install -D tsx\`, or build it to .js`, { cause: error });
    }
    register();
    // Node caches the failed import of this URL: ask again under the distinct URL the pool's
    // worker uses for the same retry, so both get one instance of the module.
    return await import(`${url}${url.includes('?') ? '&' : '?'}rxjs-pools-tsx`);
  } finally {
    globals[IMPORTING] = undefined;
  }
}
