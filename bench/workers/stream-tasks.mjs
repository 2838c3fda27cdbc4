// Streaming tasks for bench/stream.ts (plain JavaScript: workers start without a compiler).
import { readFileSync } from 'node:fs';

/** This worker's heap, sampled by `numbers` every 65,536 values: its peak. */
let peakHeap = 0;

/** 0 … n−1, sampling this worker's heap as it goes (the worker side of "flat memory"). */
export function* numbers(n) {
  peakHeap = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    if ((i & 0xffff) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    yield i;
  }
}

/** The same, as an async generator. */
export async function* numbersAsync(n) {
  peakHeap = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    if ((i & 0xffff) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    yield i;
  }
}

/** What the worker saw: its heap's peak during the last stream, and (child processes) its peak RSS so far (VmHWM). */
export function workerMemory() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peakHeap, vmHWM: kb('VmHWM'), vmRSS: kb('VmRSS') };
}
