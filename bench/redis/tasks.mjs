// Tasks of bench/redis.ts, plain JavaScript so worker hosts load them without tsx.

/** The tiny task: only the cost of getting an item to a host and its result back is measured. */
export function double(x) {
  return x * 2;
}

/** A CPU-bound task of `ms` milliseconds (a busy loop, so it really occupies a core). */
export function busy(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x > 0 ? ms : 0;
}
