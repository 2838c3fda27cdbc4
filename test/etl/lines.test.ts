import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { parseNdjson, splitLines, stringifyNdjson } from '../../src/streams/index.ts';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe('splitLines', () => {
  test('splits on \\n and \\r\\n across chunk boundaries, keeps a last line without newline', { timeout: 5_000 }, async () => {
    const chunks = ['a\r', '\nbb\n', '', 'c', 'cc\n\nd'];
    expect(await collect(splitLines()(chunks))).toEqual(['a', 'bb', 'ccc', '', 'd']);
    expect(await collect(splitLines()(['x\n']))).toEqual(['x']);
    expect(await collect(splitLines()([]))).toEqual([]);
  });

  test('decodes UTF-8 characters split across Buffer chunks', { timeout: 5_000 }, async () => {
    const bytes = Buffer.from('€uro\nnaïve 🙂\n');
    const chunks = Array.from(bytes, (b) => Buffer.from([b])); // one byte per chunk
    expect(await collect(splitLines()(Readable.from(chunks)))).toEqual(['€uro', 'naïve 🙂']);
    // A byte order mark is dropped, even split across chunks.
    const bom = Buffer.from('\ufeff{"a":1}\n');
    expect(await collect(splitLines()([bom.subarray(0, 2), bom.subarray(2)]))).toEqual(['{"a":1}']);
  });

  test('a line longer than maxLineLength errors instead of growing a buffer', { timeout: 5_000 }, async () => {
    const endless = (function* () {
      for (;;) yield 'xxxxxxxxxx';
    })();
    await expect(collect(splitLines({ maxLineLength: 100 })(endless))).rejects.toThrow(/longer than `maxLineLength` \(100/);
    expect(await collect(splitLines({ maxLineLength: 3 })(['abc\r\nabc']))).toEqual(['abc', 'abc']);
    expect(() => splitLines({ maxLineLength: 0 })).toThrow(TypeError);
  });
});

describe('parseNdjson / stringifyNdjson', () => {
  test('parses values, skips blank lines, names the line of invalid JSON', { timeout: 5_000 }, async () => {
    expect(await collect(parseNdjson()(['{"a":1}', '  ', '[2]', '"s"']))).toEqual([{ a: 1 }, [2], 's']);
    await expect(collect(parseNdjson()(['1', '', '{oops']))).rejects.toThrow(/^Line 3 is not valid JSON/);
  });

  test('onInvalid gets the error, the line number and the text, and the stream goes on', { timeout: 5_000 }, async () => {
    const bad: [number, string][] = [];
    const values = await collect(parseNdjson({ onInvalid: (error, line, text) => void bad.push([line, `${error.name}:${text}`]) })(['1', 'x', '2', '{']));
    expect(values).toEqual([1, 2]);
    expect(bad).toEqual([
      [2, 'SyntaxError:x'],
      [4, 'SyntaxError:{'],
    ]);
  });

  test('stringify writes one line per value and none for undefined', { timeout: 5_000 }, async () => {
    expect(await collect(stringifyNdjson()([{ a: 1 }, undefined, 'x', null]))).toEqual(['{"a":1}\n', '"x"\n', 'null\n']);
  });
});
