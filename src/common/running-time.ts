/**
 * How late a timer may fall due before this process counts as not having run in between: a
 * long GC pause, a paused VM or container, SIGSTOP, a starved CPU.
 */
export const STALL_MS = 100;

export interface RunningTimeout {
  cancel(): void;
}

/**
 * Calls `fire` after `ms` of this process's own running time, for a deadline on someone
 * else's answer (Redis). This process's stall is not their delay:
 * - a timer that falls due more than `STALL_MS` late starts over, once (so a process that is
 *   always late still gets its deadline, at twice the time);
 * - `fire` runs after the I/O that arrived meanwhile has been read: timers fall due before
 *   the I/O of their loop turn, where the awaited answer may be waiting.
 */
export function runningTimeout(fire: () => void, ms: number): RunningTimeout {
  let dueAt = performance.now() + ms;
  let restarted = false;
  let immediate: NodeJS.Immediate | undefined;
  const arm = (): NodeJS.Timeout => setTimeout(onDue, ms).unref();
  const onDue = (): void => {
    const now = performance.now();
    if (!restarted && now - dueAt > STALL_MS) {
      // Commands queued before the stall may not even be written yet (node-redis writes
      // from `setImmediate`): the other side gets its full time from now.
      restarted = true;
      dueAt = now + ms;
      timer = arm();
      return;
    }
    immediate = setImmediate(fire);
  };
  let timer = arm();
  return {
    cancel: () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
