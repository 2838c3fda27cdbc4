// @ts-check
/**
 * Errors across the worker boundary, worker side: anything a task throws becomes a
 * SerializedError (../serialize.ts has the type and rebuilds the Error on the pool side).
 *
 * Structured clone keeps only the message and stack of an Error and drops its class, `name`,
 * `code` and own fields, so errors are serialised by hand (CPython does the same with
 * `_ExceptionWithTraceback`; tinypool with `serializeError`).
 */

import { inspect } from 'node:util';

/** @typedef {import('../serialize.ts').SerializedError} SerializedError */

/** The built-in classes an error's `base` may name; the pool side rebuilds the same list. */
const BUILTINS = [AggregateError, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
const SKIP = new Set(['name', 'message', 'stack', 'cause', 'errors']);
const MAX_DEPTH = 8;

/**
 * Makes anything thrown by a task safe to post.
 * @param {unknown} error
 * @param {number} [depth]
 * @returns {SerializedError}
 */
export function serializeError(error, depth = 0) {
  if (!(error instanceof Error)) {
    return {
      name: 'TaskError',
      message: `Task threw a non-Error value: ${inspect(error, { depth: 2, breakLength: Infinity }).slice(0, 200)}`,
      stack: undefined,
      base: 'Error',
      props: undefined,
      thrown: { value: cloneable(error) ? error : inspect(error) },
    };
  }
  /** @type {SerializedError} */
  const out = {
    name: String(error.name),
    message: String(error.message),
    stack: typeof error.stack === 'string' ? error.stack : undefined,
    base: BUILTINS.find((C) => error instanceof C)?.name ?? 'Error',
    props: undefined,
  };
  const fields = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (error));
  for (const key of Object.keys(error)) {
    if (SKIP.has(key)) continue;
    const value = fields[key];
    (out.props ??= {})[key] = cloneable(value) ? value : inspect(value, { depth: 1 });
  }
  const code = fields.code;
  if (code !== undefined && !(out.props && 'code' in out.props)) (out.props ??= {}).code = code;
  if ('cause' in error && depth < MAX_DEPTH) {
    const cause = error.cause;
    out.cause = cause instanceof Error ? serializeError(cause, depth + 1) : { value: cloneable(cause) ? cause : inspect(cause) };
  }
  if (error instanceof AggregateError && Array.isArray(error.errors) && depth < MAX_DEPTH) {
    out.errors = error.errors.map((e) => serializeError(e, depth + 1));
  }
  return out;
}

/**
 * The error a task gets when its result cannot be sent back.
 * @param {string} what
 * @param {unknown} error
 * @returns {SerializedError}
 */
export function cloneFailure(what, error) {
  return {
    name: 'DataCloneError',
    message: `${what} could not be sent back from the worker: ${error instanceof Error ? error.message : String(error)}`,
    stack: undefined,
    base: 'Error',
    props: undefined,
  };
}

/**
 * Whether structured clone takes `value` as is (the error path only, so a trial clone is fine).
 * @param {unknown} value
 * @returns {boolean}
 */
function cloneable(value) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return true;
  if (typeof value !== 'object') return false;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
