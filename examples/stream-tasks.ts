import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Streams the rows of a CSV file (its first line names the fields) as objects, one at a time, as
 * the file is read: a streaming task for `pool.stream` and `flatMapOnPool`. A row with the wrong
 * number of fields throws a SyntaxError with its `line`.
 */
export async function* parseCsv(path: string): AsyncGenerator<Record<string, string>> {
  const input = createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    let header: string[] | undefined;
    let line = 0;
    for await (const text of lines) {
      line++;
      const fields = text.split(',');
      if (!header) {
        header = fields;
        continue;
      }
      if (fields.length !== header.length) throw Object.assign(new SyntaxError(`expected ${header.length} fields, got ${fields.length}`), { line });
      yield Object.fromEntries(header.map((name, i) => [name, fields[i]!]));
    }
  } finally {
    // Runs however the stream ends, leaving early included (break, unsubscribe): the file is closed.
    lines.close();
    input.destroy();
  }
}
