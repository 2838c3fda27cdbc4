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
/** What ../../errors.ts puts on every error the library raises (whichever copy of it, in whichever realm). */
const RAISED_BY_POOL = Symbol.for('rxjs-pools.error');

/**
 * Reads a property of an error that may be a getter that throws: what it threw, as text, then.
 * Serialising an error must never throw (the task would never be answered).
 * @param {object} object
 * @param {PropertyKey} key
 * @returns {unknown}
 */
function read(object, key) {
  try {
    return /** @type {Record<PropertyKey, unknown>} */ (object)[key];
  } catch (thrown) {
    return `[getter threw: ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}]`;
  }
}

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
  const stack = read(error, 'stack');
  /** @type {SerializedError} */
  const out = {
    name: String(read(error, 'name')),
    message: String(read(error, 'message')),
    stack: typeof stack === 'string' ? stack : undefined,
    base: BUILTINS.find((C) => error instanceof C)?.name ?? 'Error',
    props: undefined,
  };
  if (read(error, RAISED_BY_POOL) === true) out.pool = true;
  for (const key of Object.keys(error)) {
    if (SKIP.has(key)) continue;
    const value = read(error, key);
    (out.props ??= {})[key] = cloneable(value) ? value : inspect(value, { depth: 1 });
  }
  const code = read(error, 'code');
  if (code !== undefined && !(out.props && 'code' in out.props)) (out.props ??= {}).code = code;
  if ('cause' in error && depth < MAX_DEPTH) {
    const cause = read(error, 'cause');
    out.cause = cause instanceof Error ? serializeError(cause, depth + 1) : { value: cloneable(cause) ? cause : inspect(cause) };
  }
  const list = error instanceof AggregateError ? read(error, 'errors') : undefined;
  if (Array.isArray(list) && depth < MAX_DEPTH) {
    out.errors = list.map((e) => serializeError(e, depth + 1));
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
    pool: true,
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
