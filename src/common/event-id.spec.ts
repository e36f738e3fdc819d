import { decodeTime, isValid } from 'ulid';
import { eventId } from './event-id.js';

describe('eventId', () => {
  it('is a valid ULID carrying the given time', () => {
    // In the past: the later tests then start a fresh millisecond whatever this machine's clock.
    const ts = Date.UTC(2020, 0, 1, 12, 0, 0, 123);
    const id = eventId(ts);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isValid(id)).toBe(true);
    expect(decodeTime(id)).toBe(ts);
  });

  it('sorts in the order made, within a millisecond and across them', () => {
    const base = Date.now() + 1000;
    const ids = [
      ...Array.from({ length: 500 }, () => eventId(base)),
      ...Array.from({ length: 500 }, () => eventId(base + 1)),
      // A clock that steps back still gives ids after the last one.
      eventId(base - 5000),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws fresh randomness for each new millisecond', () => {
    const base = Date.now() + 10_000;
    const randomParts = Array.from({ length: 200 }, (_, i) => eventId(base + i).slice(10));
    expect(new Set(randomParts).size).toBe(200);
  });
});
