/**
 * Preloaded (`node --expose-gc --import probe.js server.js`) into both servers under test:
 * answers a `stats` message on the IPC channel with the process's CPU time and, after a full
 * garbage collection, its memory. The same probe for both, so neither is measured differently.
 */
process.on('message', (message: unknown) => {
  if (message !== 'stats') return;
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  process.send?.({
    type: 'stats',
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    cpuUs: cpu.user + cpu.system,
  });
});
