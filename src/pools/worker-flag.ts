/**
 * True inside a pool's worker (thread or child process). Guard top-level pool creation with it in
 * a module that workers also import: Node's version of Python's `if __name__ == "__main__":`.
 */
export function isPoolWorker(): boolean {
  return (globalThis as Record<PropertyKey, unknown>)[Symbol.for('rxjs-pools.worker')] === true;
}
