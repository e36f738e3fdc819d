/**
 * Preloaded (`node --expose-gc --import probe.js server.js`) into both servers under test:
 * answers a `stats` message on the IPC channel with the process's CPU time, its event-loop
 * delay and garbage-collection pauses since the last `stats`, and, after a full garbage
 * collection, its memory. The same probe for both, so neither is measured differently.
 */
import { createHistogram, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

// The bench gone (killed, crashed): the server goes too.
process.on('disconnect', () => process.exit(0));

const TICK_MS = 10;
/** A tick this much later than due is a stall: the loop was busy, or the process not running. */
const STALL_MS = 20;
const loopDelay = createHistogram();
const stalls = { count: 0, wallMs: 0, cpuMs: 0 };
let lastTick = performance.now();
let lastCpu = process.cpuUsage();
// A timer of its own rather than monitorEventLoopDelay: a stall's CPU time tells a loop busy
// with the server's own work (CPU ≈ wall) from a process the machine did not run (CPU ≪ wall).
setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  const late = now - lastTick - TICK_MS;
  loopDelay.record(Math.max(1, Math.round(late * 1000)));
  if (late > STALL_MS) {
    stalls.count += 1;
    stalls.wallMs += now - lastTick;
    stalls.cpuMs += (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000;
  }
  lastTick = now;
  lastCpu = cpu;
}, TICK_MS).unref();

const gc = { pauses: 0, totalMs: 0, maxMs: 0 };
// The probe's own full collection is not the load's: pauses that start before this are skipped.
let countGcFrom = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.startTime < countGcFrom) continue;
    gc.pauses += 1;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

/** Loop delay and GC pauses since the last call, and a fresh start for the next window. */
function takeWindow() {
  const window = {
    loopDelayP50Ms: loopDelay.percentile(50) / 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1000,
    loopDelayMaxMs: loopDelay.max / 1000,
    stalls: stalls.count,
    stallWallMs: stalls.wallMs,
    stallCpuMs: stalls.cpuMs,
    gcPauses: gc.pauses,
    gcTotalMs: gc.totalMs,
    gcMaxMs: gc.maxMs,
  };
  loopDelay.reset();
  Object.assign(gc, { pauses: 0, totalMs: 0, maxMs: 0 });
  Object.assign(stalls, { count: 0, wallMs: 0, cpuMs: 0 });
  return window;
}

process.on('message', (message: unknown) => {
  if (message === 'window') {
    process.send?.({ type: 'window', ...takeWindow() });
    return;
  }
  if (message !== 'stats') return;
  // CPU first: the collection below is the probe's cost, not the load's.
  const cpu = process.cpuUsage();
  const window = takeWindow();
  // The young generation's size as the load left it (the collection below does not shrink it).
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  countGcFrom = performance.now();
  // Nor is the stall that collection caused.
  lastTick = performance.now();
  lastCpu = process.cpuUsage();
  process.send?.({
    type: 'stats',
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    cpuUs: cpu.user + cpu.system,
    cpuSystemUs: cpu.system,
    youngGenerationBytes: young?.space_size ?? 0,
    ...window,
  });
});
