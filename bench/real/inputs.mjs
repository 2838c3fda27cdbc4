// Inputs of the real workloads, the same on every clean clone: files that `npm ci` puts in
// node_modules (and this repo's own sources), picked by sorted path, and log records from a seeded
// generator. Nothing here touches the network.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every file under `dir` whose path passes `keep`, sorted by path (so the pick never depends on the file system's order). */
function walk(dir, keep) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out.sort();
}

const load = (files) => files.map((f) => ({ path: relative(root, f), code: readFileSync(f, 'utf8') }));

/** rxjs's ES2015 build: 251 modules, ~0.6 MB of real library code, as terser-webpack-plugin would see them. */
export function jsFiles(limit = Infinity) {
  return load(walk(join(root, 'node_modules/rxjs/dist/esm'), (p) => p.endsWith('.js')).slice(0, limit));
}

/** rxjs's TypeScript sources (shipped in its package) and this repo's src/: ~320 real `.ts` files. */
export function tsFiles(limit = Infinity) {
  const isTs = (p) => p.endsWith('.ts') && !p.endsWith('.d.ts');
  return load([...walk(join(root, 'node_modules/rxjs/src'), isTs), ...walk(join(root, 'src'), isTs)].slice(0, limit));
}

/** mulberry32: a small seeded generator, so every run and every clone gets the same records. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'];
const PATHS = ['/api/orders', '/api/cart', '/api/users/me', '/checkout', '/search', '/api/items'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'curl/8.5.0', 'Mozilla/5.0 (Macintosh) Safari/605.1.15', 'okhttp/4.12.0'];

/** `n` NDJSON access-log lines (one JSON object a line, ~330 bytes each), from `seed`. */
export function ndjson(n = 200_000, seed = 20_260_101) {
  const r = rng(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const t0 = Date.UTC(2026, 0, 1);
  const lines = new Array(n);
  for (let i = 0; i < n; i++) {
    const order = Math.floor(r() * 1e9);
    const sku = `SKU-${Math.floor(r() * 36 ** 4).toString(36).toUpperCase().padStart(4, '0')}-${Math.floor(r() * 100)}`;
    lines[i] = JSON.stringify({
      ts: new Date(t0 + i * 137 + Math.floor(r() * 100)).toISOString(),
      level: pick(LEVELS),
      user: `user${Math.floor(r() * 50_000)}@example.com`,
      ip: `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
      method: r() < 0.7 ? 'GET' : 'POST',
      path: pick(PATHS),
      status: r() < 0.9 ? 200 : pick([301, 404, 500, 503]),
      ms: Math.round(r() * 2000) / 10,
      ua: pick(AGENTS),
      msg: r() < 0.8 ? `handled order=${order} sku=${sku} in ${Math.floor(r() * 90)} ms` : `cache miss for key k${order}`,
    });
  }
  return lines;
}
