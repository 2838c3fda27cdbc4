// One NDJSON log record through an ETL step: parse, hash the user (PII out), extract the order
// and SKU from the message with a regex, and write a smaller JSON record.
import { createHash } from 'node:crypto';

const ORDER = /order=(\d+) sku=([A-Z0-9]+-[A-Z0-9]+-\d+)/;

/** @param {string} line */
export function etl(line) {
  const r = JSON.parse(line);
  const m = ORDER.exec(r.msg);
  return JSON.stringify({
    ts: r.ts,
    level: r.level,
    user: createHash('sha256').update(r.user).digest('hex').slice(0, 16),
    path: r.path,
    status: r.status,
    ms: r.ms,
    order: m ? Number(m[1]) : null,
    sku: m ? m[2] : null,
  });
}
