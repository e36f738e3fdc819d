/**
 * Runs `start` and hands back, with its result, every interval it set, so they can be cleared.
 *
 * `instrument()` of `@socket.io/admin-ui` 0.5.1 (pinned exactly) sets one interval that sends
 * this instance's stats to the admin namespace every 2 s, and offers no way to stop it. Left
 * running after shutdown it keeps publishing through a Redis client that is closed, and keeps
 * the closed server in memory. It calls the global `setInterval` synchronously, so the timer
 * is caught here; `admin-ui.spec.ts` checks that on the installed version.
 */
export function withIntervalsCaught<T>(start: () => T): {
  result: T;
  intervals: NodeJS.Timeout[];
} {
  const original = globalThis.setInterval;
  const intervals: NodeJS.Timeout[] = [];
  const catching = (...args: Parameters<typeof setInterval>): NodeJS.Timeout => {
    const interval = original(...args);
    intervals.push(interval);
    return interval;
  };
  globalThis.setInterval = catching;
  try {
    return { result: start(), intervals };
  } finally {
    globalThis.setInterval = original;
  }
}
