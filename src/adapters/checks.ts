/** Checks the adapters share. */
import type { Task } from '../pools/Pool.ts';
import { describe, isTaskRef } from '../pools/task.ts';

/** A task(module, name) reference, or a TypeError saying why `adapter` needs one. */
export function expectTaskRef(adapter: string, fn: Task, why: string, example: string): asserts fn is Exclude<Task, Function> {
  if (isTaskRef(fn)) return;
  const got = typeof fn === 'function' ? `an inline function (${describe(fn)})` : describe(fn);
  throw new TypeError(`${adapter} runs task(module, name) references: ${why}; got ${got}. Export it from the worker's module and pass ${example}`);
}

/** `value` as a count of tasks the library runs at once, or a TypeError naming where it was read. */
export function expectCount(adapter: string, what: string, value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new TypeError(`${adapter}: expected ${what} to be an integer from 1 and up, got ${describe(value)}`);
}

/** Throws unless `pool` is an object with the methods named. */
export function expectLibraryPool(adapter: string, library: string, pool: unknown, methods: readonly string[]): void {
  const ok =
    (typeof pool === 'object' || typeof pool === 'function') &&
    pool !== null &&
    methods.every((m) => typeof (pool as Record<string, unknown>)[m] === 'function');
  if (!ok) throw new TypeError(`${adapter} expects ${library} (an object with ${methods.map((m) => `${m}()`).join(' and ')}), got ${describe(pool)}`);
}
