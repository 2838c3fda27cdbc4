/**
 * `rxjs-pools map <module> <export> [file]`: NDJSON in, a pool in the middle, NDJSON out, in input
 * order. `main` takes its streams as arguments, so tests can run it in-process; `src/cli.ts` hands
 * it the real ones.
 */

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BrokenPoolError, PoolError } from '../errors.ts';
import { ProcessPool } from '../pools/ProcessPool.ts';
import { ThreadPool } from '../pools/ThreadPool.ts';
import { task } from '../pools/task.ts';
import { mapSettled, splitLines, type Settled } from '../streams/index.ts';
import { isBlank } from '../streams/ndjson.ts';
import { LineWriter } from './output.ts';
import { Progress } from './progress.ts';

/** Exit status: every record was processed. */
export const EXIT_OK = 0;
/** Exit status: at least one record failed (invalid JSON, task error, result not serialisable). */
export const EXIT_RECORD_FAILED = 1;
/** Exit status: usage error, or the run could not proceed. */
export const EXIT_FATAL = 2;

export interface Io {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Whether stderr is a terminal (the progress line's default). */
  readonly stderrIsTTY: boolean;
  readonly cwd: string;
}

/** Invalid-line reports that may wait for earlier records' results (ordered runs). */
const MAX_HELD = 1024;

// Plain JavaScript in src/ and dist/ alike, so the workers need no tsx for it.
const probeTask = task<(url: string, name: string) => Promise<void>>(new URL('./probe.js', import.meta.url), 'probe');

export function help(): string {
  return `Usage: rxjs-pools map <module> <export> [options] [file]

Reads NDJSON (one JSON value per line) from <file>, or from stdin when no file or "-" is given,
calls the function <export> of <module> with each record on a pool of workers, and writes each
result as one JSON line to stdout, in input order. Memory stays bounded whatever the input's
length: a slow reader of stdout slows the reads.

Arguments:
  <module>              ES module with the task: a path (relative to the working directory) or a
                        file: URL; .js/.mjs, or .ts when tsx is installed
  <export>              Name of the exported function ('default' for the default export); it gets
                        one record and may be async
  [file]                NDJSON input (default: stdin)

Options:
  --threads <n>         Run on n worker threads (default: ${availableParallelism()}, the CPUs available)
  --processes <n>       Run on n child processes instead (own memory each; a crash costs one worker)
  --chunksize <n|auto>  Records sent to a worker per message, at most (default: auto: one until the
                        task is measured, up to about 1 ms of work for tiny ones); a worker crash
                        fails the records of its message
  --unordered           Write each result as soon as it is ready instead of in input order
  --timeout <ms>        Fail a record whose task runs longer than this (its worker is replaced)
  --redis <url>         Run the records on the worker hosts of a RedisPool instead (start them with
                        rxjs-pools worker --redis <url> --queue <name>; needs bullmq and ioredis).
                        The module must be under the working directory, the hosts' code root
  --queue <name>        The queue of --redis
  --progress            Show a progress line on stderr (default: only when stderr is a terminal)
  --no-progress         Never show it
  -h, --help            Show this help
  -v, --version         Show the version

Records:
  Blank lines are skipped. A line that is not valid JSON, a record whose task throws, and a result
  that JSON cannot represent are reported on stderr as "line <n>: <error>", and the run goes on.
  A task that returns undefined writes no line (a way to drop records).

Exit status:
  0  every record was processed
  1  at least one record failed
  2  usage error, or the run could not proceed (module or export not found, input unreadable)

Commands:
  rxjs-pools worker --redis <url> --queue <name>   a worker host for RedisPool (--help for more)

Examples:
  rxjs-pools map ./enrich.mjs enrich events.ndjson > enriched.ndjson
  tail -f events.ndjson | rxjs-pools map ./enrich.mjs enrich --threads 4 --chunksize 16
`;
}

interface Args {
  readonly moduleUrl: string;
  readonly moduleArg: string;
  readonly exportName: string;
  readonly file: string | undefined;
  readonly processes: number | undefined;
  readonly threads: number | undefined;
  readonly chunksize: number | 'auto';
  readonly ordered: boolean;
  readonly timeout: number | undefined;
  readonly progress: boolean | undefined;
  readonly redis: string | undefined;
  readonly queue: string | undefined;
}

class UsageError extends Error {}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} expects a whole number from 1 and up, got ${JSON.stringify(text)}`);
  return n;
}

function chunksize(text: string | undefined): number | 'auto' {
  if (text === undefined || text === 'auto') return 'auto';
  if (!/^\d+$/.test(text) || !(Number(text) >= 1)) throw new UsageError(`--chunksize expects a whole number from 1 and up, or auto, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parse(argv: readonly string[], cwd: string): Args | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        threads: { type: 'string' },
        processes: { type: 'string' },
        chunksize: { type: 'string' },
        unordered: { type: 'boolean' },
        timeout: { type: 'string' },
        redis: { type: 'string' },
        queue: { type: 'string' },
        progress: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (values.version) return 'version';
  const [command, moduleArg, exportName, file, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command: rxjs-pools map <module> <export> [file]');
  if (command !== 'map') throw new UsageError(`unknown command ${JSON.stringify(command)}: the command is map`);
  if (moduleArg === undefined || exportName === undefined) throw new UsageError('map needs a <module> and an <export>');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}: map reads one file (or stdin)`);
  if (values.threads !== undefined && values.processes !== undefined) throw new UsageError('--threads and --processes exclude each other: pick one');
  if (values.progress && values['no-progress']) throw new UsageError('--progress and --no-progress exclude each other');
  const timeout = integer('timeout', values.timeout);
  if (values.redis !== undefined && values.queue === undefined) throw new UsageError('--redis needs --queue <name>, the queue the worker hosts listen on');
  if (values.queue !== undefined && values.redis === undefined) throw new UsageError('--queue needs --redis <url>');
  if (values.redis !== undefined && (values.threads !== undefined || values.processes !== undefined)) {
    throw new UsageError('--redis runs the records on the worker hosts: --threads and --processes belong to rxjs-pools worker');
  }
  let moduleUrl: string;
  if (/^[a-z][a-z0-9+.-]+:/i.test(moduleArg)) {
    moduleUrl = new URL(moduleArg).href;
  } else {
    const path = isAbsolute(moduleArg) ? moduleArg : resolve(cwd, moduleArg);
    if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`cannot find the module ${moduleArg} (looked for ${path})`);
    moduleUrl = pathToFileURL(path).href;
  }
  return {
    moduleUrl,
    moduleArg,
    exportName,
    file: file === '-' ? undefined : file,
    threads: integer('threads', values.threads),
    processes: integer('processes', values.processes),
    chunksize: chunksize(values.chunksize),
    ordered: !values.unordered,
    timeout,
    progress: values.progress ? true : values['no-progress'] ? false : undefined,
    redis: values.redis,
    queue: values.queue,
  };
}

function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rxjs-pools') return `${pkg.version}\n`;
    } catch {
      // try the next place
    }
  }
  return 'unknown\n';
}

/** One line of an error for stderr: `RangeError: bad amount`. */
function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Runs the command; resolves with the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // `rxjs-pools worker …`: a RedisPool worker host (loads bullmq and ioredis, so only on demand).
  if (argv[0] === 'worker') return (await import('./worker.ts')).worker(argv.slice(1), io);
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv, io.cwd);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`rxjs-pools: ${error.message}\nTry 'rxjs-pools --help'.\n`);
    return EXIT_FATAL;
  }
  if (args === 'help') {
    io.stdout.write(help());
    return EXIT_OK;
  }
  if (args === 'version') {
    io.stdout.write(version());
    return EXIT_OK;
  }
  return run(args, io);
}

async function run(args: Args, io: Io): Promise<number> {
  let input: Readable;
  if (args.file === undefined) {
    input = io.stdin;
  } else {
    const path = resolve(io.cwd, args.file);
    if (!existsSync(path)) {
      io.stderr.write(`rxjs-pools: cannot read ${args.file}: no such file\n`);
      return EXIT_FATAL;
    }
    input = createReadStream(path);
  }

  let pool: ThreadPool | ProcessPool | import('../redis/RedisPool.ts').RedisPool;
  if (args.redis !== undefined) {
    const made = await redisPool(args, io);
    if (typeof made === 'number') return made;
    pool = made;
  } else {
    const poolOptions = {
      maxWorkers: args.processes ?? args.threads ?? availableParallelism(),
      initializer: probeTask,
      initArgs: [args.moduleUrl, args.exportName],
      // stdout is the data: what a task prints goes to stderr.
      stdout: 'stderr' as const,
      ...(args.timeout === undefined ? {} : { taskTimeout: args.timeout }),
    };
    pool = args.processes !== undefined ? new ProcessPool(poolOptions) : new ThreadPool(poolOptions);
  }
  const fn = task<(record: unknown) => unknown>(args.moduleUrl, args.exportName);
  const progress = new Progress(io.stderr, args.progress ?? io.stderrIsTTY);
  const output = new LineWriter(io.stdout);
  const stop = new AbortController();
  const onOutputError = (error: Error) => {
    output.fail(error);
    stop.abort(error);
  };
  io.stdout.on('error', onOutputError);

  const report = (line: number, text: string) => {
    progress.record(true);
    progress.message(`line ${line}: ${text}`);
  };
  // Ordered, an invalid line is reported once every record before it has been, so stderr is in
  // line order like stdout. At most MAX_HELD reports wait; past that, reading pauses until the
  // results catch up (a long run of bad lines behind a slow record never fills memory).
  const lineOf = new Map<number, number>();
  const held: { after: number; line: number; message: string }[] = [];
  let yielded = 0;
  let handled = 0;
  let resumeReading: (() => void) | null = null;
  const flushHeld = () => {
    while (held.length > 0 && held[0]!.after <= handled) {
      const { line, message } = held.shift()!;
      report(line, message);
    }
    if (held.length < MAX_HELD && resumeReading) {
      resumeReading();
      resumeReading = null;
    }
  };
  async function* records(): AsyncGenerator<unknown, void, undefined> {
    let line = 0;
    for await (const text of splitLines()(input)) {
      line++;
      if (isBlank(text)) continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (error) {
        const message = `invalid JSON: ${(error as Error).message}`;
        if (!args.ordered || (held.length === 0 && handled >= yielded)) {
          report(line, message);
        } else {
          held.push({ after: yielded, line, message });
          if (held.length >= MAX_HELD) await new Promise<void>((resolve) => (resumeReading = resolve));
        }
        continue;
      }
      lineOf.set(yielded++, line);
      yield record;
    }
  }

  // Start a worker now, so a module or export that cannot be loaded is reported even for an empty input.
  // (Worker hosts refuse inline functions: there, a host that cannot load the module says so on
  // the first record, and that ends the run.)
  let fatal: unknown;
  const ready = args.redis !== undefined ? Promise.resolve() : pool.submit(() => 0, []).catch((error: unknown) => void (fatal ??= error));

  const write = async (result: Settled<unknown, unknown>, line: number) => {
    if (!result.ok) return report(line, describeError(result.error));
    let json: string | undefined;
    try {
      json = JSON.stringify(result.value);
    } catch (error) {
      return report(line, `the result cannot be written as JSON: ${describeError(error)}`);
    }
    progress.record(false);
    if (json !== undefined) await output.write(`${json}\n`);
  };

  progress.start(pool);
  try {
    for await (const result of mapSettled(pool, fn, records(), { chunksize: args.chunksize, ordered: args.ordered, signal: stop.signal })) {
      if (!result.ok && args.redis !== undefined && isRefusal(result.error)) {
        fatal ??= result.error;
        break;
      }
      const line = lineOf.get(result.index)!;
      lineOf.delete(result.index);
      await write(result, line);
      handled++;
      flushHeld();
    }
    handled = Infinity;
    flushHeld();
    await ready;
    await output.flush();
  } catch (error) {
    if (!(stop.signal.aborted && output.error)) fatal ??= error;
  } finally {
    progress.stop();
    io.stdout.off('error', onOutputError);
    await pool.shutdown({ cancelPending: true });
  }

  if (output.error && (output.error as NodeJS.ErrnoException).code !== 'EPIPE') fatal ??= output.error;
  if (fatal !== undefined) {
    io.stderr.write(`rxjs-pools: ${fatalMessage(fatal, args)}\n`);
    return EXIT_FATAL;
  }
  return progress.failed > 0 ? EXIT_RECORD_FAILED : EXIT_OK;
}

/** A worker host's refusal of the task itself (not found, outside its root): no record can run. */
function isRefusal(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_TASK_NOT_FOUND' || code === 'ERR_TASK_OUTSIDE_ROOT' || code === 'ERR_INLINE_REFUSED';
}

/** The RedisPool of `map --redis URL --queue NAME`, or an exit status when it cannot be made. */
async function redisPool(args: Args, io: Io): Promise<import('../redis/RedisPool.ts').RedisPool | number> {
  const path = args.moduleUrl.startsWith('file:') ? fileURLToPath(args.moduleUrl) : undefined;
  const rel = path === undefined ? '..' : relative(io.cwd, path);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    io.stderr.write(
      `rxjs-pools: with --redis the module must be under the working directory (the code root the worker hosts resolve it under), and ${args.moduleArg} is not\n`,
    );
    return EXIT_FATAL;
  }
  try {
    const { RedisPool } = await import('../redis/RedisPool.ts');
    return new RedisPool({
      connection: args.redis!,
      queue: args.queue!,
      root: io.cwd,
      ...(args.timeout === undefined ? {} : { taskTimeout: args.timeout }),
    });
  } catch (error) {
    io.stderr.write(`rxjs-pools: ${describeError(error)}\n`);
    return EXIT_FATAL;
  }
}

function fatalMessage(error: unknown, args: Args): string {
  if (error instanceof BrokenPoolError) {
    const cause = (error as Error).cause;
    return `cannot run ${args.exportName} from ${args.moduleArg}: ${cause instanceof Error ? describeError(cause) : error.message}`;
  }
  if (error instanceof PoolError) return describeError(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return `cannot read ${args.file ?? 'stdin'}: ${(error as Error).message}`;
  return describeError(error);
}
