import { asCompleted, ProcessPool, ThreadPool, wait, WaitTimeoutError } from 'rxjs-pools/pools';

const ms = Number(process.argv[2] ?? 1000); // each task's time: the seed's 1 s
const processNumber = (n: number, ms: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // time.sleep(1): it blocks its thread
  return n;
};
const square = (n: number, ms: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return n * n;
};

{
  await using pool = new ThreadPool({ maxWorkers: 3 });
  // Python: for future in as_completed(futures): print(f"Processed Number: {future.result()}")
  const futures = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => pool.submit(processNumber, [n, ms]));
  for await (const done of asCompleted(futures)) {
    if (done.status === 'fulfilled') console.log(`Processed Number: ${done.value}`); // Processed Number: 1 (… 10, as they finish)
  }

  // A deadline: asCompleted throws WaitTimeoutError; nothing is cancelled unless you cancel it.
  const stop = new AbortController();
  const slow = pool.submit(processNumber, [11, ms * 10], { signal: stop.signal });
  try {
    for await (const done of asCompleted([slow], { timeout: ms / 10 })) console.log(done.status);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    console.log(error.message); // asCompleted: 1 (of 1) promises unfinished after 100 ms
    stop.abort(); // its worker is stopped (and replaced)
  }
  await slow.catch(() => {});
}

{
  await using pool = new ProcessPool({ maxWorkers: 3 });
  const numbers = [1, 2, 3, 4, 5, 11, 12, 14];
  const futures = new Map(numbers.map((n) => [pool.submit(square, [n, ms]), n])); // future → its number
  const early = await wait(futures.keys(), { timeout: ms / 2 }); // it never throws: it reports
  console.log(`after ${ms / 2} ms: ${early.done.length} done, ${early.pending.size} pending`); // after 500 ms: 0 done, 8 pending
  const all = await wait(early.pending, { returnWhen: 'ALL_COMPLETED' });
  console.log(`then: ${all.done.length} done, ${all.pending.size} pending`); // then: 8 done, 0 pending
  for (const [future, n] of futures) console.log(`Square of ${n}: ${await future}`); // Square of 1: 1 (… in input order)
}
