// @ts-check
/**
 * Buffers across a thread boundary, for both sides (plain JavaScript, like all the worker loads).
 * Structured clone delivers a Buffer as a plain Uint8Array (`toString('utf8')` then prints
 * "104,105"), while a process, with V8 serialisation, gets a Buffer: so the sender marks which
 * top-level arguments, batch items and results were Buffers, and the receiver makes those Buffers
 * again (a view of the same memory, no copy). Buffers nested inside other values arrive as
 * Uint8Arrays on threads (documented): finding them would mean walking every value sent.
 */

/**
 * Indexes of the Buffers among `values`, or undefined when there is none.
 * @param {readonly unknown[]} values
 * @returns {number[] | undefined}
 */
export function bufferIndexes(values) {
  /** @type {number[] | undefined} */
  let indexes;
  for (let i = 0; i < values.length; i++) if (Buffer.isBuffer(values[i])) (indexes ??= []).push(i);
  return indexes;
}

/**
 * Makes the Uint8Arrays at `indexes` Buffers again, in place.
 * @param {unknown[]} values
 * @param {readonly number[] | undefined} indexes
 */
export function restoreBuffers(values, indexes) {
  if (indexes) for (const i of indexes) values[i] = asBuffer(values[i]);
}

/**
 * @param {unknown} value
 * @returns {unknown}
 */
export function asBuffer(value) {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}
