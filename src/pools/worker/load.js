// @ts-check
/**
 * Loading module tasks, in a worker. No side effects at import: the CLI's initializer uses it too.
 *
 * A worker starts without any loader (the transports drop the parent's --import/--require), so
 * inline functions and `.js` modules cost no compiler. A TypeScript module (`.ts`, `.mts`, `.cts`,
 * `.tsx`) registers tsx in this worker before its first import, once: the extension decides,
 * never a failed import.
 */

import { createRequire } from 'node:module';

/** @typedef {(...args: unknown[]) => unknown} Fn */

/** Set while a task module is being imported; a pool created then is a RecursivePoolError. */
const IMPORTING = Symbol.for('rxjs-pools.importing');
/** How many times this worker registered tsx (0 or 1); tests read it. */
const TSX_REGISTERED = Symbol.for('rxjs-pools.tsx');
const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)$/i;
/** Loader flags that bring tsx along (what `tsx` itself adds, or `--import tsx` by hand). */
const TSX_FLAG = /^(?:--import|--loader|--experimental-loader|--require|-r)(?:=.*)?$/;

/** @type {Promise<void> | undefined} */
let typescript;

/**
 * Imports a task module and returns the named export, checked to be a function. Used by workers
 * for module tasks and initializers (and by the CLI to check a module once per worker).
 * @param {string} url
 * @param {string} name
 * @returns {Promise<Fn>}
 */
export async function loadExport(url, name) {
  const globals = /** @type {Record<PropertyKey, unknown>} */ (globalThis);
  if (isTypeScript(url)) {
    try {
      await prepareTypeScript();
    } catch (error) {
      throw explainTsx(url, error);
    }
  }
  globals[IMPORTING] = url;
  /** @type {Record<string, unknown>} */
  let module;
  try {
    module = await import(url);
  } catch (error) {
    throw explainImport(url, error);
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
  return /** @type {Fn} */ (fn);
}

/**
 * Whether `url` names a TypeScript file, by its extension (query and hash aside).
 * @param {string} url
 * @returns {boolean}
 */
export function isTypeScript(url) {
  try {
    return TYPESCRIPT.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

/**
 * Makes this worker able to import TypeScript: registers tsx the first time (see registerTsx);
 * later calls share that one registration, and its failure.
 * @returns {Promise<void>}
 */
export function prepareTypeScript() {
  return (typescript ??= registerTsx());
}

/**
 * Registers tsx's ESM loader in this worker, unless a TypeScript loader is already active here
 * (a process started with the user's own `execArgv: ['--import', 'tsx']`): registering tsx a
 * second time breaks its transforms (exports go missing).
 * @returns {Promise<void>}
 */
async function registerTsx() {
  if (typeScriptActive()) return;
  const { register } = await import('tsx/esm/api');
  register();
  const globals = /** @type {Record<PropertyKey, unknown>} */ (globalThis);
  globals[TSX_REGISTERED] = Number(globals[TSX_REGISTERED] ?? 0) + 1;
}

/** @returns {boolean} */
function typeScriptActive() {
  // tsx's full loader (--import tsx, or tsx's CLI) also installs a CommonJS handler for .ts.
  const extensions = createRequire(import.meta.url).extensions;
  if (Object.hasOwn(extensions, '.ts')) return true;
  // `--loader tsx/esm` and the like install no CommonJS handler: look at the flags.
  const argv = process.execArgv;
  return argv.some((arg, i) => {
    if (!TSX_FLAG.test(arg)) return false;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1] ?? '';
    return /(?:^|[\\/])tsx(?:$|[\\/])/.test(value);
  });
}

/**
 * @param {string} url
 * @param {unknown} error
 * @returns {Error}
 */
function explainTsx(url, error) {
  const code = /** @type {{ code?: unknown }} */ (error).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_MODULE_NOT_FOUND' && /['"]tsx['"]/.test(message)) {
    return new TypeError(`Task module ${url} is TypeScript and tsx is not installed: \`npm install -D tsx\`, or build it to .js`, {
      cause: error,
    });
  }
  return new TypeError(`Task module ${url} is TypeScript and tsx could not be loaded in the worker: ${message}`, { cause: error });
}

/**
 * @param {string} url
 * @param {unknown} error
 * @returns {unknown}
 */
function explainImport(url, error) {
  if (!(error instanceof Error)) return error;
  // Node's SyntaxError for a module names neither the file nor the line in message or stack.
  if (error instanceof SyntaxError && !error.message.includes(url) && !String(error.stack).includes(url)) {
    error.message += ` (in task module ${url})`;
  }
  // A .js module that imports a .ts file: the worker registered nothing, as the task module's
  // extension said. Say how to get tsx (the failed import cannot be retried: Node caches it).
  const code = /** @type {{ code?: unknown }} */ (error).code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && !isTypeScript(url) && /\.(?:ts|mts|cts|tsx)\b/.test(error.message)) {
    error.message +=
      ` — task module ${url} is JavaScript, so its worker did not register tsx for the TypeScript file it imports;` +
      ` give the task module a .ts extension, or build what it imports to .js`;
  }
  return error;
}
