import { StringDecoder } from 'node:string_decoder';

/** Options of {@link splitLines}. */
export interface SplitLinesOptions {
  /**
   * Longest line accepted, in UTF-16 code units. A longer line errors the stream with a RangeError
   * instead of growing a buffer without bound (input that never contains a newline).
   * @default Infinity
   */
  readonly maxLineLength?: number;
}

/**
 * Splits a byte or text stream into lines, for `stream.pipeline` or a `for await` loop: the text
 * of each line without its `\n` or `\r\n`, including a last line that has no newline. UTF-8
 * characters split across chunks are decoded whole; a leading byte order mark is dropped.
 *
 * Pull-based: it reads a chunk only when its consumer asks for a line, so a slow consumer slows
 * the reads.
 *
 * ## Example
 * ```ts
 * for await (const line of splitLines()(createReadStream('feed.ndjson'))) console.log(line);
 * ```
 * @param options.maxLineLength Longest line accepted. @default Infinity
 * @returns A transform: `(source) => AsyncGenerator<string>`.
 */
export function splitLines(
  options: SplitLinesOptions = {},
): (source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>) => AsyncGenerator<string, void, undefined> {
  const max = options.maxLineLength ?? Infinity;
  if (typeof max !== 'number' || !(max >= 1)) {
    throw new TypeError(`Expected \`maxLineLength\` to be a number from 1 and up (or Infinity), got ${String(max)} (${typeof max})`);
  }
  return async function* lines(source) {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let first = true;
    for await (const chunk of source) {
      let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      if (first && text.length > 0) {
        // A byte order mark (files saved by some Windows editors) is not part of the first line.
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end - start > max) throw tooLong(max);
        yield text.slice(start, end);
        start = nl + 1;
      }
      rest = start === 0 ? text : text.slice(start);
      // A trailing '\r' may be the first half of a '\r\n' split across chunks: not counted yet.
      if (rest.length - 1 > max) throw tooLong(max);
    }
    rest += decoder.end();
    if (rest.endsWith('\r')) rest = rest.slice(0, -1);
    if (rest.length > max) throw tooLong(max);
    if (rest.length > 0) yield rest;
  };
}

function tooLong(max: number): RangeError {
  return new RangeError(`A line is longer than \`maxLineLength\` (${max} characters)`);
}
