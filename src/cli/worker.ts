/**
 * `rxjs-pools worker --redis URL --queue NAME`: a worker host for `RedisPool` (see
 * src/redis/host.ts). Loads bullmq and ioredis only here, so `rxjs-pools map` never needs them.
 */

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Io } from './main.ts';

export function workerHelp(): string {
  return `Usage: rxjs-pools worker --redis <url> --queue <name> [options]

Runs the jobs a RedisPool puts on <name>: takes them from Redis (BullMQ), runs each on a local
pool of worker threads (or child processes), and sends the results back. Start one per machine;
every host on the queue shares the work. SIGTERM or SIGINT stops it: it takes no more jobs, hands
back those it has not started, lets running ones finish (for --grace ms), and exits 0.

Options:
  --redis <url>            Redis URL: redis://host:port/db, redis://user:password@host:port,
                           rediss://… for TLS (the password is never printed)
  --queue <name>           The queue (the RedisPool's \`queue\`)
  --threads <n>            Run jobs on n worker threads (default: ${availableParallelism()}, the CPUs available)
  --processes <n>          Run them on n child processes instead
  --root <dir>             Code root: task modules are found by their path under it, and a path
                           outside it is refused (default: the working directory)
  --allow-inline           Also run inline functions sent by their source. Off by default: whoever
                           can write to Redis could then run code on this machine
  --prefetch <n>           Jobs held beyond one per local worker (default: 1)
  --name <name>            Name of this host in the pool's stats (default: hostname:pid)
  --lock-duration <ms>     BullMQ lock duration: a job whose host stops renewing it (killed) goes
                           to another host after it (default: 8000)
  --stalled-interval <ms>  How often stalled jobs are looked for (default: 4000)
  --max-stalled-count <n>  Re-deliveries of a stalled job before it fails with WorkerLostError (default: 1)
  --grace <ms>             On SIGTERM, how long running jobs may take to finish (default: 5000)
  --prefix <prefix>        BullMQ key prefix (default: bull)
  -h, --help               Show this help

Example:
  rxjs-pools worker --redis redis://10.0.0.5:6379 --queue etl --threads 8 --root /srv/app
`;
}

class UsageError extends Error {}

function integer(name: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} expects a whole number from ${min} and up, got ${JSON.stringify(text)}`);
  return n;
}

/** Runs the host until SIGTERM / SIGINT; resolves with the exit status. */
export async function worker(argv: readonly string[], io: Io): Promise<number> {
  let options;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        redis: { type: 'string' },
        queue: { type: 'string' },
        threads: { type: 'string' },
        processes: { type: 'string' },
        root: { type: 'string' },
        'allow-inline': { type: 'boolean' },
        prefetch: { type: 'string' },
        name: { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        'max-stalled-count': { type: 'string' },
        grace: { type: 'string' },
        prefix: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.stdout.write(workerHelp());
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.redis === undefined) throw new UsageError('worker needs --redis <url> (e.g. redis://127.0.0.1:6379)');
    if (values.queue === undefined) throw new UsageError('worker needs --queue <name>');
    if (values.threads !== undefined && values.processes !== undefined) throw new UsageError('--threads and --processes exclude each other: pick one');
    options = {
      connection: values.redis,
      queue: values.queue,
      threads: integer('threads', values.threads),
      processes: integer('processes', values.processes),
      root: values.root === undefined ? io.cwd : values.root,
      allowInline: values['allow-inline'] ?? false,
      prefetch: integer('prefetch', values.prefetch, 0),
      name: values.name,
      lockDuration: integer('lock-duration', values['lock-duration'], 100),
      stalledInterval: integer('stalled-interval', values['stalled-interval'], 100),
      maxStalledCount: integer('max-stalled-count', values['max-stalled-count'], 0),
      grace: integer('grace', values.grace),
      prefix: values.prefix,
    };
  } catch (error) {
    io.stderr.write(`rxjs-pools worker: ${(error as Error).message}\nTry 'rxjs-pools worker --help'.\n`);
    return 2;
  }
  // Drop what was not given, so the host's defaults apply.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));

  let WorkerHost: typeof import('../redis/host.ts').WorkerHost;
  try {
    ({ WorkerHost } = await import('../redis/host.ts'));
  } catch (error) {
    io.stderr.write(`rxjs-pools worker: ${(error as Error).message}\n`);
    return 2;
  }
  let host: InstanceType<typeof WorkerHost>;
  try {
    host = new WorkerHost(given as unknown as ConstructorParameters<typeof WorkerHost>[0]);
  } catch (error) {
    io.stderr.write(`rxjs-pools worker: ${(error as Error).message}\n`);
    return 2;
  }
  const o = host.options;
  const label = `rxjs-pools worker ${o.name}`;
  const where = `queue ${o.queue} on ${o.connection.address}`;
  const live = io.stderrIsTTY;
  let lastLine = '';
  const line = (text: string) => {
    if (live) io.stderr.write(`\r\x1b[2K${text}`);
    else io.stderr.write(`${text}\n`);
  };
  const describeStatus = () => {
    const s = host.status;
    const redis = s.connected ? 'connected' : 'Redis unreachable, retrying';
    return `${label}: ${where} · holding ${s.held} (${s.running} running) · ${s.jobs} jobs, ${s.items} items done${s.failed ? `, ${s.failed} failed` : ''} · ${redis}`;
  };
  let wasConnected = true;
  host.onStatus = (s) => {
    if (live) {
      const text = describeStatus();
      if (text !== lastLine) line((lastLine = text));
    } else if (s.connected !== wasConnected && !s.closing) {
      // Without a terminal, only changes of the connection get a line.
      wasConnected = s.connected;
      line(s.connected ? `${label}: connected again to ${o.connection.address}` : `${label}: lost Redis at ${o.connection.address}, retrying`);
    }
  };
  let waitingShown = false;
  host.onWaiting = (error) => {
    if (waitingShown) return;
    waitingShown = true;
    line(`${label}: waiting for Redis at ${o.connection.address} (${error.message})`);
  };

  let stopping: Promise<void> | undefined;
  let signalled!: () => void;
  const stopRequested = new Promise<void>((resolve) => (signalled = resolve));
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    signalled();
    if (live) io.stderr.write('\n');
    line(`${label}: ${signal}, stopping: no new jobs; running ones may finish for ${o.grace} ms, the rest go back to the queue`);
    stopping = host.close();
    // The host ends within ~9 s even with Redis gone; this is the backstop for the 10 s promise.
    if (io.stderr === process.stderr) setTimeout(() => process.exit(0), 9_800).unref();
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    try {
      await host.start();
    } catch (error) {
      if (stopping) {
        await stopping;
        return 0;
      }
      line(`${label}: cannot start: ${(error as Error).message}`);
      await host.close();
      return 2;
    }
    wasConnected = true;
    const pool = `${o.workers} ${o.kind === 'threads' ? (o.workers === 1 ? 'thread' : 'threads') : o.workers === 1 ? 'process' : 'processes'}`;
    line(`${label}: ready · ${where} · ${pool}, prefetch ${o.prefetch} · root ${o.root}${o.allowInline ? ' · inline functions allowed' : ''}`);
    await stopRequested;
    await stopping;
    const s = host.status;
    line(`${label}: stopped · ${s.jobs} jobs (${s.items} items) done${s.failed ? `, ${s.failed} items failed` : ''}${s.handedBack ? `, ${s.handedBack} handed back` : ''}`);
    return 0;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    // BullMQ may keep a timer or a socket to a Redis that is gone: do not let it hold the exit.
    if (io.stderr === process.stderr) setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  }
}
