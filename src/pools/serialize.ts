/**
 * Errors across the worker boundary, pool side: the SerializedError type, and deserializeError.
 * The worker's half (serializeError) is ./worker/errors.js, plain JavaScript.
 *
 * Structured clone keeps only the message and stack of an Error and drops its class, `name`,
 * `code` and own fields, so errors are serialised by hand (CPython does the same with
 * `_ExceptionWithTraceback`; tinypool with `serializeError`). A custom subclass of a built-in
 * (class ValidationError extends TypeError) arrives as that built-in, with its own name.
 */

import * as errors from '../errors.ts';

export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  /** The nearest built-in class on the prototype chain (`'TypeError'`, …), or `'Error'`. */
  base: string;
  /** Own fields (`code`, `errno`, anything the task set), cloneable ones as is, others as text. */
  props: Record<string, unknown> | undefined;
  cause?: SerializedError | { value: unknown };
  /** AggregateError's errors. */
  errors?: SerializedError[];
  /** Set when the task threw something that is not an Error: the value itself. */
  thrown?: { value: unknown };
  /** Raised by the library (a `PoolError`), not by the task: only then is it rebuilt as one of the library's classes. */
  pool?: true;
}

const BUILTINS = [AggregateError, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError] as const;
const BY_BASE = Object.fromEntries(BUILTINS.map((C) => [C.name, C])) as Record<string, new (message?: string) => Error>;

/** Rebuilds an Error on the pool side: same name, message, stack, code, cause and own fields. */
export function deserializeError(s: SerializedError): Error {
  let error: Error;
  if (s.thrown) {
    error = new errors.TaskError(s.message, s.thrown.value);
  } else if (s.base === 'AggregateError') {
    error = new AggregateError((s.errors ?? []).map(deserializeError), s.message);
  } else {
    // The library's own errors (a RecursivePoolError raised while a worker imported a module, a
    // DataCloneError) keep their class; a task's error never becomes one by its name alone.
    const Own = s.pool ? (errors as Record<string, unknown>)[s.name] : undefined;
    const Ctor = typeof Own === 'function' && Own.prototype instanceof Error ? (Own as new (m: string) => Error) : (BY_BASE[s.base] ?? Error);
    error = Reflect.construct(Ctor, [s.message]) as Error;
  }
  if (error.name !== s.name) {
    Object.defineProperty(error, 'name', { value: s.name, enumerable: false, configurable: true, writable: true });
  }
  if (s.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: s.stack, enumerable: false, configurable: true, writable: true });
  }
  if (s.props) Object.assign(error, s.props);
  if (s.cause) {
    const cause = 'value' in s.cause ? s.cause.value : deserializeError(s.cause);
    Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  }
  return error;
}
