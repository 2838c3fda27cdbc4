/**
 * The enrichment step of the ETL feed example: plain TypeScript, imported by each worker (and by
 * the main-thread baseline). CPU-bound on purpose, like real enrichment: tokenising the card
 * number (a key-stretching hash) and scoring the transaction with a small fixed model.
 */

export interface Transaction {
  id: string;
  ts: string;
  card: string;
  account: string;
  merchant: string;
  mcc: string;
  amount: number;
  currency: string;
  country: string;
  ip: string;
  channel: 'pos' | 'web' | 'app';
}

export interface Enriched extends Transaction {
  /** The card number, tokenised: never leaves the pipeline in the clear. */
  card: string;
  amountEUR: number;
  region: string;
  hour: number;
  risk: number;
  band: 'low' | 'review' | 'block';
}

const EUR: Record<string, number> = { EUR: 1, USD: 0.92, GBP: 1.17, JPY: 0.0061, CHF: 1.04, SEK: 0.088 };
const REGION: Record<string, string> = { US: 'NA', CA: 'NA', MX: 'LATAM', BR: 'LATAM', GB: 'EU', DE: 'EU', FR: 'EU', SE: 'EU', CH: 'EU', JP: 'APAC', SG: 'APAC', NG: 'EMEA' };

/** Rounds of the card tokeniser: the CPU-heavy part (about 0.3 ms per record). */
const ROUNDS = 30_000;

/** 32-bit murmur3 finaliser: a cheap, well-mixed integer hash. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashString(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = mix(h ^ text.charCodeAt(i)) + i;
  return h >>> 0;
}

/** Tokenises a card number: key stretching, so a token cannot be brute-forced back cheaply. */
export function tokenise(card: string, secret = 'feed-secret'): string {
  let a = hashString(card, 0x9e3779b9);
  let b = hashString(secret, a);
  for (let i = 0; i < ROUNDS; i++) {
    a = mix(a ^ b ^ i);
    b = mix(b + a + card.charCodeAt(i % card.length));
  }
  return `tok_${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

/** A tiny fixed "model": hashed features, one hidden layer, a logistic output. Deterministic. */
const HIDDEN = 16;
const BUCKETS = 1024;
const weights = Float64Array.from({ length: BUCKETS * HIDDEN }, (_, i) => ((mix(i + 1) / 0xffffffff) - 0.5) * 0.6);
const out = Float64Array.from({ length: HIDDEN }, (_, i) => ((mix(i + 7777) / 0xffffffff) - 0.5) * 2);

function score(features: readonly string[]): number {
  const hidden = new Float64Array(HIDDEN);
  for (const feature of features) {
    const row = (hashString(feature, 17) % BUCKETS) * HIDDEN;
    for (let j = 0; j < HIDDEN; j++) hidden[j]! += weights[row + j]!;
  }
  let z = -1.5;
  for (let j = 0; j < HIDDEN; j++) z += Math.tanh(hidden[j]!) * out[j]!;
  return 1 / (1 + Math.exp(-z));
}

/** The enrichment: tokenised card, amount in EUR, region, hour, risk score and band. */
export function enrich(tx: Transaction): Enriched {
  const amountEUR = Math.round(tx.amount * (EUR[tx.currency] ?? 1) * 100) / 100;
  const hour = new Date(tx.ts).getUTCHours();
  const region = REGION[tx.country] ?? 'OTHER';
  const bucket = amountEUR < 10 ? 'xs' : amountEUR < 100 ? 's' : amountEUR < 1000 ? 'm' : 'l';
  const risk = score([`mcc:${tx.mcc}`, `country:${tx.country}`, `channel:${tx.channel}`, `hour:${hour}`, `amount:${bucket}`, `mcc×amount:${tx.mcc}:${bucket}`, `ip:${tx.ip.split('.').slice(0, 2).join('.')}`]);
  const rounded = Math.round(risk * 1000) / 1000;
  return { ...tx, card: tokenise(tx.card), amountEUR, region, hour, risk: rounded, band: rounded > 0.8 ? 'block' : rounded > 0.5 ? 'review' : 'low' };
}

/** A no-op the example runs once per worker, to start the pool before timing it. */
export function ready(): boolean {
  return true;
}
