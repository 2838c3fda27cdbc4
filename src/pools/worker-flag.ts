import { RecursivePoolError } from '../errors.ts';

/**
 * True inside a pool's worker (thread or child process). Guard top-level pool creation with it in
 * a module that workers also import: Node's version of Python's `if __name__ == "__main__":`.
 */
export function isPoolWorker(): boolean {
  return (globalThis as Record<PropertyKey, unknown>)[Symbol.for('rxjs-pools.worker')] === true;
}

/**
 * Throws RecursivePoolError when a pool is being created while a worker imports a task module:
 * the module creates pools at its top level, so every worker would start pools of its own.
 */
export function refuseRecursivePool(kind: string): void {
  const importing = (globalThis as Record<PropertyKey, unknown>)[Symbol.for('rxjs-pools.importing')];
  if (!importing) return;
  throw new RecursivePoolError(
    `A ${kind} was created while a pool worker was importing the task module ${String(importing)}, so every ` +
      `worker would start a pool of its own. Create pools only in code that runs in your main program: keep ` +
      `tasks in a module that does not create pools, or guard the creation with \`if (!isPoolWorker())\` ` +
      `(from rxjs-pools) — Node's version of Python's \`if __name__ == "__main__":\``,
  );
}
