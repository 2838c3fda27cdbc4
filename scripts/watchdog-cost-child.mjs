// The child of scripts/watchdog-cost.ts, plain Node (no tsx): argv `none` or `watchdog`. With
// `watchdog` it starts one as a pool child does, timing what that takes on this (the main) thread.
let startMs = 0;
if (process.argv[2] === 'watchdog') {
  const { startWatchdog } = await import('../src/pools/worker/watchdog.js');
  const t0 = performance.now();
  startWatchdog(process.ppid);
  startMs = performance.now() - t0;
}
process.on('message', (message) => {
  if (message === 'probe') {
    const cpu = process.cpuUsage();
    process.send({ startMs, rssMb: process.memoryUsage.rss() / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message === 'exit') {
    process.disconnect(); // leave by letting the event loop end, as a pool worker does
  }
});
process.send('up');
