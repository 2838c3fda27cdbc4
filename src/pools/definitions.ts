/**
 * Function definitions: what a worker needs to run a task's function (an inline function's source,
 * or a module and an export name), made once per function and sent once per worker.
 */

import type { AnyFn, TaskRef } from './Pool.ts';
import { FnKind, Op, type DefMsg } from './protocol.ts';
import { describe, isTaskRef } from './task.ts';

export interface Definition {
  /** Its number on the wire (workers keep functions by it). */
  readonly key: number;
  /** The Def message that teaches it to a worker. */
  readonly message: DefMsg;
  /** For messages: the function's or the export's name. */
  readonly name: string;
  /** A module export (it is imported by each worker: start-up time, not task time). */
  readonly module: boolean;
  /** Measured milliseconds per item (a moving average, as the workers time it); undefined until measured. */
  itemMs: number | undefined;
}

export class Definitions {
  readonly #byFn = new WeakMap<AnyFn, Definition>();
  /** By identity: `inline:<source>` or `module:<name>@<url>`, so equal tasks share a definition. */
  readonly #byIdentity = new Map<string, Definition>();

  /** The definition of a task, made on first use. Throws a TypeError for what cannot be a task. */
  of(fn: unknown): Definition {
    if (typeof fn === 'function') {
      let def = this.#byFn.get(fn as AnyFn);
      if (def) return def;
      const source = Function.prototype.toString.call(fn);
      if (/\{\s*\[native code\]\s*\}$/.test(source)) {
        throw new TypeError(
          `${describe(fn)} is a bound or native function, which cannot be sent to a worker: ` +
            `pass a plain function, or export it from a module and use task(new URL('./tasks.ts', import.meta.url), 'name')`,
        );
      }
      def = this.#define(`inline:${source}`, FnKind.Inline, source, fn.name);
      this.#byFn.set(fn as AnyFn, def);
      return def;
    }
    if (isTaskRef(fn)) {
      const ref = fn as TaskRef;
      return this.#define(`module:${ref.name}@${ref.module}`, FnKind.Module, ref.module, ref.name);
    }
    throw new TypeError(`Expected a task: a function or a task(module, name) reference, got ${describe(fn)}`);
  }

  #define(identity: string, kind: DefMsg[2], where: string, name: string): Definition {
    let def = this.#byIdentity.get(identity);
    if (!def) {
      const key = this.#byIdentity.size;
      def = {
        key,
        message: [Op.Def, key, kind, where, name] as DefMsg,
        name: name || '(anonymous)',
        module: kind === FnKind.Module,
        itemMs: undefined,
      };
      this.#byIdentity.set(identity, def);
    }
    return def;
  }
}
