/**
 * The CLI's pool initializer: imports the user's task module in each worker before its first
 * record and checks the export, so a wrong path or name fails the run once, with one clear message,
 * instead of failing every record. It also warms the module up. The loading is the workers' own
 * (one module instance, the same tsx fallback and messages).
 */
import { loadExport } from '../pools/load.ts';

export async function probe(url: string, name: string): Promise<void> {
  await loadExport(url, name);
}
