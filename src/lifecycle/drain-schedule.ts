/** The drain lets connections go on ticks of this length, a batch per tick. */
export const DRAIN_TICK_MS = 100;
/** The last part of the window stays free, for the stragglers and the close. */
const SPREAD_OF_WINDOW = 0.9;

/**
 * When each of `count` connections is let go, in ms from the start of the drain: spread
 * uniformly at random over 90 % of the window, so the instances left are not hit at once
 * and no two drains line up. Rounded up to ticks, so one timer serves every connection.
 */
export function drainDelays(
  count: number,
  windowMs: number,
  random: () => number = Math.random,
): number[] {
  const spread = Math.max(0, windowMs * SPREAD_OF_WINDOW);
  return Array.from(
    { length: count },
    () => Math.ceil((random() * spread) / DRAIN_TICK_MS) * DRAIN_TICK_MS,
  );
}
