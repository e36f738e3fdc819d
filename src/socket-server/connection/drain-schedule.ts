/** The drain lets connections go on ticks of this length, a batch per tick. */
export const DRAIN_TICK_MS = 100;
/**
 * The end of the drain window kept free of departures: the last clients let go reconnect
 * elsewhere (a stock client's first retry comes 0.5–1.5 s after the close) before this
 * instance exits and hands its presence share to the others. 10 % of the window, at least
 * 3 s, at most half of it.
 */
const RESERVE_SHARE = 0.1;
const RESERVE_MIN_MS = 3000;
const RESERVE_MAX_SHARE = 0.5;

/** How much of a `windowMs` drain departures are spread over. */
export function drainSpreadMs(windowMs: number): number {
  const windowOrZero = Math.max(0, windowMs);
  const reserve = Math.min(
    windowOrZero * RESERVE_MAX_SHARE,
    Math.max(windowOrZero * RESERVE_SHARE, RESERVE_MIN_MS),
  );
  return windowOrZero - reserve;
}

/**
 * When each of `count` connections is let go, in ms from the start of the drain: spread
 * uniformly at random over the window less its reserve, so the instances left are not hit
 * at once and no two drains line up. Rounded down to ticks, so one timer serves every
 * connection.
 */
export function drainDelays(
  count: number,
  windowMs: number,
  random: () => number = Math.random,
): number[] {
  const spread = drainSpreadMs(windowMs);
  return Array.from(
    { length: count },
    () => Math.floor((random() * spread) / DRAIN_TICK_MS) * DRAIN_TICK_MS,
  );
}
