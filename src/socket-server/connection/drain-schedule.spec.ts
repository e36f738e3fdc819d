import { DRAIN_TICK_MS, drainDelays, drainSpreadMs } from './drain-schedule.js';

/** A small deterministic generator, so the test sees the same spread every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('drainDelays', () => {
  it('keeps the end of the window free: 10 %, at least 3 s, at most half', () => {
    expect(drainSpreadMs(30_000)).toBe(27_000);
    expect(drainSpreadMs(10_000)).toBe(7000);
    expect(drainSpreadMs(6000)).toBe(3000);
    expect(drainSpreadMs(4000)).toBe(2000);
    expect(drainSpreadMs(1000)).toBe(500);
    expect(drainSpreadMs(0)).toBe(0);
  });

  it('spreads connections over the window less its reserve, on ticks', () => {
    const delays = drainDelays(1000, 30_000, seeded(42));
    expect(delays).toHaveLength(1000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(27_000);
    expect(Math.max(...delays)).toBeGreaterThan(26_000);
    expect(delays.every((delay) => delay % DRAIN_TICK_MS === 0)).toBe(true);
  });

  it('stays on ticks when the spread is not a whole number of them', () => {
    const delays = drainDelays(1000, 3333, seeded(3));
    expect(Math.max(...delays)).toBeLessThanOrEqual(drainSpreadMs(3333));
    expect(delays.every((delay) => delay % DRAIN_TICK_MS === 0)).toBe(true);
  });

  it('does not let most connections go in the first second (no thundering herd)', () => {
    const delays = drainDelays(1000, 10_000, seeded(7));
    const firstSecond = delays.filter((delay) => delay < 1000).length;
    expect(firstSecond).toBeLessThan(200);
    const lastQuarter = delays.filter((delay) => delay >= 5250).length;
    expect(lastQuarter).toBeGreaterThan(150);
  });

  it('with no window, lets every connection go at once', () => {
    expect(drainDelays(3, 0, seeded(1))).toEqual([0, 0, 0]);
  });
});
