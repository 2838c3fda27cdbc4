// The child of scripts/watchdog-cost.ts, plain Node (no tsx): argv `none` or `watchdog`. Listeners
// run in the order they were added: the one before and the one after the watchdog's own time its
// start on this (the main) thread when the first message arrives.
let t0 = 0;
let startMs = 0;
process.once('message', () => (t0 = performance.now()));
if (process.argv[2] === 'watchdog') {
  const { startWatchdog } = await import('../src/pools/worker/watchdog.js');
  startWatchdog(process.ppid);
}
process.once('message', () => (startMs = performance.now() - t0));
process.on('message', (message) => {
  if (message === 'probe') {
    const cpu = process.cpuUsage();
    process.send({ startMs, rssMb: process.memoryUsage.rss() / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message === 'exit') {
    process.disconnect(); // leave by letting the event loop end, as a pool worker does
  }
});
process.send('up');
