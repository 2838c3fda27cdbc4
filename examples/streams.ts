import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { ThreadPool, flatMapOnPool, task } from 'rxjs-pools';

// A streaming task: an async generator exported by a module, which each worker imports.
const parseCsv = task<typeof import('./stream-tasks.ts').parseCsv>(new URL('./stream-tasks.ts', import.meta.url), 'parseCsv');

const dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-streams-'));
const csv = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const cities = csv('cities.csv', 'city,population\nLyon,522250\nOslo,709037\nKyoto,1463723\n');
const rivers = csv('rivers.csv', 'river,km\nRhone,812\nGlomma,621\n');
const broken = csv('broken.csv', 'city,population\nBern,134591\nnot a row\nGraz,291072\n');

try {
  await using pool = new ThreadPool({ maxWorkers: 2 });

  // Rows arrive as the worker reads them, never more than `buffersize` ahead of this loop.
  for await (const row of pool.stream(parseCsv, [cities])) console.log(row.city, row.population);
  // → Lyon 522250
  // → Oslo 709037
  // → Kyoto 1463723

  // Leaving early returns the generator in its worker: its finally closes the file.
  for await (const row of pool.stream(parseCsv, [cities], { buffersize: 1 })) {
    console.log('first:', row.city);
    break;
  }
  console.log('cancelled:', pool.stats.cancelled, 'workers:', pool.stats.workers);
  // → first: Lyon
  // → cancelled: 1 workers: 1

  // As an operator: every row of each file, file after file, the two files read at once.
  const rows = await lastValueFrom(from([cities, rivers]).pipe(flatMapOnPool(pool, parseCsv), toArray()));
  console.log(rows.map((row) => Object.values(row)[0]).join(' '));
  // → Lyon Oslo Kyoto Rhone Glomma

  // An error thrown mid-stream arrives after the rows before it, as the worker threw it.
  try {
    for await (const row of pool.stream(parseCsv, [broken])) console.log(row.city);
  } catch (error) {
    console.log(`${(error as Error).name}: ${(error as Error).message} (line ${(error as { line?: number }).line})`);
  }
  // → Bern
  // → SyntaxError: expected 2 fields, got 1 (line 3)
} finally {
  rmSync(dir, { recursive: true, force: true });
}
