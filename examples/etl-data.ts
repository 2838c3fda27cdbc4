/**
 * The synthetic feed of the ETL examples (examples/etl-feed.ts on threads, examples/cluster-demo.ts
 * on RedisPool worker hosts): the same seeded card transactions as NDJSON text, and the digest
 * both use to show that every pipeline wrote the same output.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Transaction } from './etl-tasks.ts';

const MERCHANTS = [
  ['Blue Bottle Coffee', '5814'],
  ['Shell', '5541'],
  ['Amazon Marketplace', '5999'],
  ['Uber', '4121'],
  ['Steam Games', '5816'],
  ['Whole Foods', '5411'],
  ['Delta Air Lines', '3058'],
  ['Apple Store', '5732'],
] as const;
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'JP', 'CA', 'BR', 'SE', 'CH', 'NG'];
const CURRENCY: Record<string, string> = { US: 'USD', CA: 'USD', GB: 'GBP', JP: 'JPY', CH: 'CHF', SE: 'SEK', BR: 'USD', NG: 'USD' };
const CHANNELS = ['pos', 'web', 'app'] as const;

/** Seeded PRNG (mulberry32): the same feed every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The feed as NDJSON text in ~16 KiB chunks, the way a file or socket delivers it. */
export function* feed(n: number): Generator<string> {
  const rand = random(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const start = Date.parse('2026-11-25T00:00:00Z');
  let chunk = '';
  for (let i = 1; i <= n; i++) {
    const [merchant, mcc] = pick(MERCHANTS);
    const country = pick(COUNTRIES);
    const tx: Transaction = {
      id: `tx_${String(i).padStart(7, '0')}`,
      ts: new Date(start + i * 1_370 + Math.floor(rand() * 1000)).toISOString(),
      card: `4${String(Math.floor(rand() * 1e15)).padStart(15, '0')}`,
      account: `AC${1000 + Math.floor(rand() * 9000)}`,
      merchant,
      mcc,
      amount: Math.round((rand() < 0.9 ? rand() * 120 : rand() * 4000) * 100) / 100,
      currency: CURRENCY[country] ?? 'EUR',
      country,
      ip: `${Math.floor(rand() * 223) + 1}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`,
      channel: pick(CHANNELS),
    };
    chunk += `${JSON.stringify(tx)}\n`;
    if (chunk.length > 16_384) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** SHA-256 of a file, hex. */
export function digest(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
