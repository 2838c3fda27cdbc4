/**
 * What needs no Redis: option validation (eager, naming what is wrong), task identity rules on both
 * sides, the missing-peer message, and the commands' usage errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { PoolError, TaskTimeoutError, task } from 'rxjs-pools';
import { RedisPool, WorkerHost } from 'rxjs-pools/redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { unwireError, wireError } from '../../src/redis/codec.ts';
import { resolveSpec, specOf } from '../../src/redis/tasks.ts';
import { repo } from './hosts.ts';

const url = 'redis://127.0.0.1:6379';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxjs-pools-redis-opts-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RedisPool options', () => {
  test.each([
    [{ queue: 'q' }, /Expected `connection` to be a Redis URL such as redis:\/\/127\.0\.0\.1:6379 .*got undefined/],
    [{ connection: 'localhost:6379', queue: 'q' }, /`connection` to be a redis:\/\/ or rediss:\/\/ URL, got one with the scheme localhost:/],
    [{ connection: 'http://h:1', queue: 'q' }, /scheme http:/],
    [{ connection: 'not a url', queue: 'q' }, /got a string that is not a URL/],
    [{ connection: 'redis://h:1/x', queue: 'q' }, /database .* to be a number/],
    [{ connection: url }, /Expected `queue` to be a non-empty name without ':' or spaces, got undefined/],
    [{ connection: url, queue: 'a:b' }, /`queue` .* got "a:b"/],
    [{ connection: url, queue: 'q', maxInFlight: 0 }, /Expected `maxInFlight` to be an integer from 1 and up, got 0 \(number\)/],
    [{ connection: url, queue: 'q', maxEvents: 10 }, /`maxEvents` to be an integer from 100 and up/],
    [{ connection: url, queue: 'q', connectTimeout: Infinity }, /`connectTimeout` to be a finite number of milliseconds/],
    [{ connection: url, queue: 'q', reconnectTimeout: -1 }, /`reconnectTimeout` to be a number of milliseconds above 0/],
    [{ connection: url, queue: 'q', maxPayloadBytes: 1.5 }, /`maxPayloadBytes` to be an integer/],
    [{ connection: url, queue: 'q', taskTimeout: 0 }, /`taskTimeout`/],
    [{ connection: url, queue: 'q', root: '' }, /`root` to be a directory path/],
    [{ connection: url, queue: 'q', maxWorkers: 4 }, /Unknown RedisPool option `maxWorkers`; known options: connection, queue/],
  ])('%o is refused', (options, message) => {
    expect(() => new RedisPool(options as never)).toThrow(message);
  });

  test('a password in the URL never shows in what the pool prints', () => {
    const pool = new RedisPool({ connection: 'redis://app:hunter2@10.0.0.5:6380/2', queue: 'q' });
    expect(pool.address).toBe('redis://10.0.0.5:6380/2');
    expect(pool.maxWorkers).toBe(64);
  });

  test('transfer is refused: it moves memory within this process only', async () => {
    const pool = new RedisPool({ connection: url, queue: 'q', root: repo });
    await expect(pool.submit((x: number) => x, [1], { transfer: [] })).rejects.toThrow(/a RedisPool copies arguments to other machines/);
  });
});

describe('worker host options', () => {
  test.each([
    [{ connection: url, queue: 'q', threads: 2, processes: 2 }, /`threads` and `processes` exclude each other/],
    [{ connection: url, queue: 'q', threads: 0 }, /`threads` to be an integer from 1/],
    [{ connection: url, queue: 'q', prefetch: -1 }, /`prefetch` to be an integer from 0/],
    [{ connection: url, queue: 'q', lockDuration: 10 }, /`lockDuration` to be an integer from 100/],
    [{ connection: url, queue: 'q', allowInline: 'yes' }, /`allowInline` to be a boolean/],
    [{ connection: url, queue: 'q', concurrency: 3 }, /Unknown worker host option `concurrency`/],
  ])('%o is refused', (options, message) => {
    expect(() => new WorkerHost(options as never)).toThrow(message);
  });

  test('the defaults bound a re-delivery at ~12 s (lock 8 s + one 4 s stall check) and hold one job beyond the threads', () => {
    const host = new WorkerHost({ connection: url, queue: 'q', threads: 3 });
    expect(host.options).toMatchObject({ lockDuration: 8_000, stalledInterval: 4_000, maxStalledCount: 1, prefetch: 1, workers: 3, allowInline: false });
  });
});

describe('task identity across machines', () => {
  test('pool side: a module task travels as its path under the root; outside it, or not a file, is refused', () => {
    const cache = new Map();
    const inside = task(join(repo, 'test/redis/fixtures/tasks.ts'), 'double');
    expect(specOf(inside, repo, cache)).toEqual({ k: 'module', path: 'test/redis/fixtures/tasks.ts', name: 'double' });
    expect(() => specOf(task(join(dir, 'x.mjs'), 'f'), repo, cache)).toThrow(/is outside the code root/);
    expect(() => specOf(task('data:text/javascript,export const f=1', 'f'), repo, cache)).toThrow(/is not a file: URL/);
    expect(() => specOf(Math.max, repo, cache)).toThrow(/bound or native function/);
    expect(specOf((x: number) => x + 1, repo, cache)).toMatchObject({ k: 'inline', source: '(x) => x + 1' });
  });

  test('host side: a path outside --root, or linking outside it, or missing, is refused with a code; inline needs allowInline', () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'ok.mjs'), 'export const f = (x) => x;\n');
    writeFileSync(join(dir, 'secret.mjs'), 'export const f = () => 1;\n');
    symlinkSync(join(dir, 'secret.mjs'), join(root, 'link.mjs'));
    const cache = new Map();
    const refused = (spec: Parameters<typeof resolveSpec>[0], allowInline = false) => {
      try {
        resolveSpec(spec, root, allowInline, cache);
        return undefined;
      } catch (error) {
        return error as Error & { code: string };
      }
    };
    expect(resolveSpec({ k: 'module', path: 'ok.mjs', name: 'f' }, root, false, cache)).toEqual({ module: pathToFileURL(join(root, 'ok.mjs')).href, name: 'f' });
    expect(refused({ k: 'module', path: '../secret.mjs', name: 'f' })?.code).toBe('ERR_TASK_OUTSIDE_ROOT');
    expect(refused({ k: 'module', path: join(dir, 'secret.mjs'), name: 'f' })?.code).toBe('ERR_TASK_OUTSIDE_ROOT');
    expect(refused({ k: 'module', path: 'link.mjs', name: 'f' })?.message).toMatch(/links outside this host's code root/);
    expect(refused({ k: 'module', path: 'gone.mjs', name: 'f' })?.code).toBe('ERR_TASK_NOT_FOUND');
    const inline = refused({ k: 'inline', source: '(x) => x', name: 'f' });
    expect(inline?.code).toBe('ERR_INLINE_REFUSED');
    expect(inline?.message).toMatch(/--allow-inline/);
    const fn = resolveSpec({ k: 'inline', source: 'twice(x) { return 2 * x; }', name: 'twice' }, root, true, cache) as (x: number) => number;
    expect(fn(4)).toBe(8); // a method shorthand, as the local workers rebuild it
  });
});

describe('errors on the wire', () => {
  test('an error a pool raised comes back as our class; a task error only as its built-in base, name kept', () => {
    const timeout = unwireError(structuredClone(wireError(new TaskTimeoutError('took too long', 200))));
    expect(timeout).toBeInstanceOf(TaskTimeoutError);
    expect((timeout as TaskTimeoutError).timeout).toBe(200);
    class Odd extends RangeError {
      override name = 'Odd';
    }
    const odd = unwireError(structuredClone(wireError(new Odd('odd'))));
    expect(odd).toBeInstanceOf(RangeError);
    expect(odd).not.toBeInstanceOf(PoolError);
    expect(odd.name).toBe('Odd');
  });
});

describe('the optional peers', () => {
  const run = (code: string) =>
    spawnSync(process.execPath, ['--require', join(repo, 'test/redis/fixtures/no-peers.cjs'), '--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 30_000,
    });

  test('importing rxjs-pools/redis without bullmq or ioredis says what to install', () => {
    const result = run("await import('./src/redis/index.ts')");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/rxjs-pools\/redis needs the optional peer dependencies bullmq \(6\.x\) and ioredis, and ioredis is not installed: npm install bullmq@\^6 ioredis@\^5/);
  });

  test('rxjs-pools itself (and its map command) load neither', () => {
    const preload = ['--require', join(repo, 'test/redis/fixtures/no-peers.cjs'), '--import', 'tsx'];
    const local = spawnSync(process.execPath, [...preload, join(repo, 'test/redis/fixtures/local-only.ts')], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
    expect({ status: local.status, stdout: local.stdout.trim(), stderr: local.stderr }).toEqual({ status: 0, stdout: '42', stderr: '' });
    const map = spawnSync(process.execPath, [...preload, join(repo, 'src/cli.ts'), 'map', 'test/etl/fixtures/tasks.mjs', 'enrich', '--threads', '1'], {
      cwd: repo,
      encoding: 'utf8',
      input: '{"id":1,"qty":2,"price":1.5}\n',
      timeout: 30_000,
    });
    expect({ status: map.status, stdout: JSON.parse(map.stdout).total }).toEqual({ status: 0, stdout: 3 });
  });

  test('rxjs-pools worker without them exits 2 with the install command', () => {
    const result = spawnSync(
      process.execPath,
      ['--require', join(repo, 'test/redis/fixtures/no-peers.cjs'), '--import', 'tsx', join(repo, 'src/cli.ts'), 'worker', '--redis', url, '--queue', 'q'],
      { cwd: repo, encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/npm install bullmq@\^6 ioredis@\^5/);
  });
});

describe('command usage errors', () => {
  async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    const code = await main(argv, { stdin: new PassThrough(), stdout, stderr, stderrIsTTY: false, cwd: repo });
    return { code, stdout: out, stderr: err };
  }

  test.each([
    [['worker'], /worker needs --redis <url>/],
    [['worker', '--redis', url], /worker needs --queue <name>/],
    [['worker', '--redis', url, '--queue', 'q', '--threads', '2', '--processes', '2'], /--threads and --processes exclude each other/],
    [['worker', '--redis', url, '--queue', 'q', '--threads', 'many'], /--threads expects a whole number from 1 and up, got "many"/],
    [['worker', '--redis', 'http://x', '--queue', 'q'], /redis:\/\/ or rediss:\/\/ URL/],
    [['worker', '--redis', url, '--queue', 'q', '--bogus'], /Unknown option '--bogus'/],
    [['map', 'test/etl/fixtures/tasks.mjs', 'enrich', '--redis', url], /--redis needs --queue <name>/],
    [['map', 'test/etl/fixtures/tasks.mjs', 'enrich', '--queue', 'q'], /--queue needs --redis <url>/],
    [['map', 'test/etl/fixtures/tasks.mjs', 'enrich', '--redis', url, '--queue', 'q', '--threads', '2'], /--threads and --processes belong to rxjs-pools worker/],
  ])('%o', async (argv, message) => {
    const { code, stderr } = await cli(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test('map --redis refuses a module outside the working directory (the hosts resolve it under theirs)', async () => {
    writeFileSync(join(dir, 'elsewhere.mjs'), 'export const f = (x) => x;\n');
    const { code, stderr } = await cli(['map', join(dir, 'elsewhere.mjs'), 'f', '--redis', url, '--queue', 'q']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/with --redis the module must be under the working directory/);
  });

  test('worker --help', async () => {
    const { code, stdout } = await cli(['worker', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Usage: rxjs-pools worker --redis <url> --queue <name>/);
    expect(stdout).toMatch(/--allow-inline/);
  });
});
