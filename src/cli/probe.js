// @ts-check
/**
 * The CLI's pool initializer: imports the user's task module in each worker before its first
 * record and checks the export, so a wrong path or name fails the run once, with one clear message,
 * instead of failing every record. It also warms the module up. The loading is the workers' own
 * (one module instance, the same tsx registration and messages). Plain JavaScript, like the worker
 * entry: running the CLI from source costs a worker no compiler unless the user's module is .ts.
 */
import { loadExport } from '../pools/worker/load.js';

/**
 * @param {string} url
 * @param {string} name
 * @returns {Promise<void>}
 */
export async function probe(url, name) {
  await loadExport(url, name);
}
