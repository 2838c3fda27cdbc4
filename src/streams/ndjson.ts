/** Options of {@link parseNdjson}. */
export interface ParseNdjsonOptions {
  /**
   * Called for a line that is not valid JSON, with its 1-based line number, instead of erroring the
   * stream: the line is skipped. If it throws, the stream errors with what it threw.
   */
  readonly onInvalid?: (error: SyntaxError, line: number, text: string) => void;
}

/**
 * Parses NDJSON lines (from {@link splitLines}) into values. Blank lines are skipped. A line that
 * is not valid JSON errors the stream with a `SyntaxError` naming its line number, unless
 * `onInvalid` takes it.
 *
 * @returns A transform: `(lines) => AsyncGenerator<value>`.
 */
export function parseNdjson<T = unknown>(
  options: ParseNdjsonOptions = {},
): (lines: AsyncIterable<string> | Iterable<string>) => AsyncGenerator<T, void, undefined> {
  const { onInvalid } = options;
  if (onInvalid !== undefined && typeof onInvalid !== 'function') {
    throw new TypeError(`Expected \`onInvalid\` to be a function, got ${typeof onInvalid}`);
  }
  return async function* parse(lines) {
    let line = 0;
    for await (const text of lines) {
      line++;
      if (isBlank(text)) continue;
      let value: T;
      try {
        value = JSON.parse(text) as T;
      } catch (error) {
        if (!onInvalid) throw new SyntaxError(`Line ${line} is not valid JSON: ${(error as Error).message}`, { cause: error });
        onInvalid(error as SyntaxError, line, text);
        continue;
      }
      yield value;
    }
  };
}

/**
 * Serialises values as NDJSON text, one line per value. A value that serialises to nothing
 * (`undefined`, a function) writes no line.
 *
 * @returns A transform: `(values) => AsyncGenerator<string>`.
 */
export function stringifyNdjson(): (values: AsyncIterable<unknown> | Iterable<unknown>) => AsyncGenerator<string, void, undefined> {
  return async function* stringify(values) {
    for await (const value of values) {
      const text = JSON.stringify(value);
      if (text !== undefined) yield `${text}\n`;
    }
  };
}

/** True for an empty or whitespace-only line (NDJSON readers skip them). */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
