/** Helpers of the ETL suite: running the command, a sink the test opens, waiting for quiet. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const cliSource = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
export const tasksPath = fileURLToPath(new URL('./fixtures/tasks.mjs', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ReturnType<typeof spawn>;
  /** Resolves once stdout holds at least `n` lines. */
  lines(n: number): Promise<string[]>;
  readonly done: Promise<CliRun>;
}

/**
 * Starts the command from source, as `npx tsx src/cli.ts` would (node --import tsx, without npx's
 * start-up cost). `command` overrides the script, for the built one.
 */
export function startCli(args: readonly string[], options: { input?: string; script?: string; tsx?: boolean } = {}): Running {
  const script = options.script ?? cliSource;
  const nodeArgs = options.tsx === false ? [script] : ['--import', 'tsx', script];
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { n: number; resolve: (lines: string[]) => void }[] = [];
  const lines = () => stdout.split('\n').slice(0, -1);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const have = lines();
    for (const w of waiters.splice(0)) {
      if (have.length >= w.n) w.resolve(have);
      else waiters.push(w);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return {
    child,
    lines: (n) => (lines().length >= n ? Promise.resolve(lines()) : new Promise((resolve) => waiters.push({ n, resolve }))),
    done,
  };
}

export function runCli(args: readonly string[], options: { input?: string; script?: string; tsx?: boolean } = {}): Promise<CliRun> {
  return startCli(args, { input: '', ...options }).done;
}

export interface Tx {
  readonly id: number;
  readonly account: string;
  readonly qty: number;
  readonly price: number;
  readonly [field: string]: unknown;
}

/** `n` transactions: id (from 1), account, qty, price. */
export function transactions(n: number, extra: (i: number) => Record<string, unknown> = () => ({})): Tx[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, account: `AC${(i * 7919) % 1000}`, qty: (i % 5) + 1, price: ((i * 37) % 1000) / 10, ...extra(i + 1) }));
}

export function ndjson(values: readonly unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\n`).join('');
}

/** The fixture's `enrich`, on the main thread, for expected output. */
export function enriched(record: Tx): Tx & { total: number } {
  return { ...record, total: Math.round(record.qty * record.price * 100) / 100 };
}

/**
 * An object-mode Writable that accepts a chunk only when the test lets it: each write is held
 * (and `'held'` emitted) until `allow(n)` or `open()`. `accepted` counts the writes let through.
 */
export class GatedSink extends Writable {
  readonly received: unknown[] = [];
  accepted = 0;
  #allowance = 0;
  #held: (() => void)[] = [];
  constructor() {
    super({ objectMode: true, highWaterMark: 1 });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received.push(chunk);
    this.#held.push(callback);
    this.#pump();
    if (this.#held.length > 0) this.emit('held');
  }
  /** Lets `n` more writes through. */
  allow(n: number): void {
    this.#allowance += n;
    this.#pump();
  }
  /** Lets every write through from now on. */
  open(): void {
    this.allow(Infinity);
  }
  /** Resolves when a write is being held. */
  blocked(): Promise<void> {
    return this.#held.length > 0 ? Promise.resolve() : once(this, 'held').then(() => undefined);
  }
  #pump(): void {
    while (this.#allowance > 0 && this.#held.length > 0) {
      this.#allowance--;
      this.accepted++;
      this.#held.shift()!();
    }
  }
}

/**
 * Resolves once nothing moves any more: `isIdle()` holds and `progress()` has not changed for 20
 * turns of the event loop in a row. Turns, not time: what is being waited for (pool answers,
 * stream callbacks) all arrives as events, so once they stop, they have stopped.
 */
export async function quiet(isIdle: () => boolean, progress: () => number): Promise<void> {
  let last = Number.NaN;
  let stable = 0;
  while (stable < 20) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = progress();
    if (isIdle() && now === last) stable++;
    else stable = 0;
    last = now;
  }
}
