import { ProcessPool, ThreadPool, task, WorkerCrashedError } from 'rxjs-pools';

// An inline task is sent by its source: it must be self-contained (no outer variables).
const square = (n: number) => n * n;
// A module task is imported by each worker, so it may use imports and module state.
const reverse = task<typeof import('./quickstart-tasks.ts').reverse>(new URL('./quickstart-tasks.ts', import.meta.url), 'reverse');

{
  await using pool = new ThreadPool({ maxWorkers: 3 }); // Python: with ThreadPoolExecutor(3) as pool
  console.log(await pool.submit(square, [4])); // 16
  console.log(await pool.submit(reverse, ['stressed'])); // desserts

  const squares: number[] = [];
  for await (const y of pool.map(square, [1, 2, 3, 4, 5], { chunksize: 2 })) squares.push(y);
  console.log(squares); // [ 1, 4, 9, 16, 25 ]
} // `await using` shut the pool down here, waiting for its workers to exit

{
  await using pool = new ProcessPool({ maxWorkers: 2 });
  try {
    await pool.submit(() => process.exit(3), []);
  } catch (error) {
    console.log(error instanceof WorkerCrashedError, (error as WorkerCrashedError).exitCode); // true 3
  }
  console.log(await pool.submit(square, [5]), pool.stats.completed); // 25 1 (the crashed worker was replaced)
}
