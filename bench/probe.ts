/**
 * Preloaded (`node --expose-gc --import probe.js server.js`) into both servers under test:
 * answers a `stats` message on the IPC channel with the process's CPU time and, after a full
 * garbage collection, its memory. The same probe for both, so neither is measured differently.
 */
// The bench gone (killed, crashed): the server goes too.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: unknown) => {
  if (message !== 'stats') return;
  // CPU first: the collection below is the probe's cost, not the load's.
  const cpu = process.cpuUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  process.send?.({
    type: 'stats',
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    cpuUs: cpu.user + cpu.system,
  });
});
