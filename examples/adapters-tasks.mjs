// The worker code a user already has: plain JavaScript, loaded by piscina's (and our) workers.
import { createHash } from 'node:crypto';

export function hash(word) {
  return createHash('sha256').update(word).digest('hex').slice(0, 8);
}
