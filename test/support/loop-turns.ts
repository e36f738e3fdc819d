import { jest } from '@jest/globals';

/*
 * For specs that fake timers, the clock and `performance`, but keep the real `setImmediate`:
 * each fake millisecond is one turn of the real event loop (its timers, then what the test
 * does there in place of the turn's I/O, then its `setImmediate` callbacks), as in Node.
 * Fake `setImmediate` would run a callback queued from a timer 1 ms later, after the next
 * timers. Use `jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate'] })`.
 */

/** Lets the event loop reach its check phase: the `setImmediate` callbacks queued so far run. */
export const checkPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `ms` of running time, one loop turn per millisecond. */
export async function elapse(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    jest.advanceTimersByTime(1);
    await checkPhase();
  }
}

/**
 * This process does not run for `ms` (a long GC, a paused container): the clock moves on and
 * the timers that fell due meanwhile fire once, late, at its end (fake-timers' `jump`, which
 * Jest does not expose; its clock hangs on the faked `setTimeout`). Then the turn goes on.
 */
export async function stall(ms: number): Promise<void> {
  (setTimeout as unknown as { clock: { jump(ms: number): number } }).clock.jump(ms);
  await checkPhase();
}
