import { TokenBucket } from './token-bucket.js';

function takeMany(bucket: TokenBucket, times: number, now: number): boolean[] {
  return Array.from({ length: times }, () => bucket.take(now));
}

describe('TokenBucket', () => {
  it('allows a burst, then refuses', () => {
    const bucket = new TokenBucket(2, 5, 1_000);
    expect(takeMany(bucket, 5, 1_000)).toEqual([true, true, true, true, true]);
    expect(bucket.take(1_000)).toBe(false);
  });

  it('refuses until a whole token has refilled', () => {
    const bucket = new TokenBucket(4, 4, 0);
    takeMany(bucket, 4, 0);
    expect(bucket.take(249)).toBe(false);
  });

  it('refills at perSecond', () => {
    const bucket = new TokenBucket(4, 4, 0);
    takeMany(bucket, 4, 0);
    expect(bucket.take(250)).toBe(true);
    expect(bucket.take(250)).toBe(false);
    expect(takeMany(bucket, 3, 1_000)).toEqual([true, true, true]);
    expect(bucket.take(1_000)).toBe(false);
  });

  it('keeps partial refills across refused takes', () => {
    const bucket = new TokenBucket(1, 1, 0);
    bucket.take(0);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(750)).toBe(false);
    expect(bucket.take(1_000)).toBe(true);
  });

  it('never holds more than burst, however long it idles', () => {
    const bucket = new TokenBucket(10, 3, 0);
    const anHourLater = 3_600_000;
    expect(takeMany(bucket, 4, anHourLater)).toEqual([true, true, true, false]);
  });

  it('starts full', () => {
    const bucket = new TokenBucket(1, 2, 5_000);
    expect(takeMany(bucket, 3, 5_000)).toEqual([true, true, false]);
  });
});
