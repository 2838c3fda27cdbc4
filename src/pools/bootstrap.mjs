// Starts a worker from TypeScript source (under tsx or vitest): a worker thread cannot load a
// `.ts` entry itself, even with tsx in execArgv (ERR_UNKNOWN_FILE_EXTENSION on Node 20), so this
// plain module registers tsx's loader first and then imports the real entry. The built package
// (dist/) starts dist/pools/worker.js directly and never loads this file.
import { workerData, isMainThread } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const boot = isMainThread ? JSON.parse(process.argv[2]) : workerData;
await import(boot.entry);
