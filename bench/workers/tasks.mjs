// The benchmark's task bodies, shared by every system so all of them run the same code.
// Each function is self-contained (no outer variables, no imports) so rxjs-pools can send it
// inline by its source, exactly as a user would write it.

/** Workload 1 and 6: the cheapest possible task, so only dispatch overhead is measured. */
export function inc(x) {
  return x + 1;
}

/** Workload 2: deterministic integer work; `n` is calibrated by the harness to take ~20 ms. */
export function spin(n) {
  let x = 1;
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  return x;
}

/** Workload 4: returns the buffer it was given (copied back unless the system can transfer). */
export function echo(buf) {
  return buf;
}

/** Workload 5, threads: the seed's blocking 1 s task (a real block, like Python's time.sleep). */
export function seedThread(n) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  return n;
}

/** Workload 5, processes: the seed's blocking 2 s task returning the square. */
export function seedProcess(n) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
  return n * n;
}
