import { randomFillSync } from 'node:crypto';

/** Crockford's base32, as ULIDs use it. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
/** Random bytes drawn from the OS in one call, then used 10 at a time (80 bits an id). */
const POOL_BYTES = 4096;

const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;
let lastTime = -1;
/** The random part of the last id, one base32 digit (0–31) per character. */
const lastRandom = new Uint8Array(RANDOM_CHARS);
let lastTimeText = '';

/**
 * A ULID: unique, and sortable by time as text. Monotonic within a millisecond (and if the
 * clock steps back): the random part of the previous id plus one, so ids of messages sent in
 * the same millisecond on this instance sort in sending order.
 *
 * Written here rather than taken from the `ulid` package, which asks the OS for randomness
 * once per character (16 `randomBytes` calls an id): on the chat path that alone was ~6 % of
 * the server's CPU. This draws 80 bits per id from a 4 KB pool.
 */
export function eventId(ts: number): string {
  if (ts > lastTime) {
    lastTime = ts;
    lastTimeText = encodeTime(ts);
    nextRandom();
  } else {
    increment();
  }
  let text = lastTimeText;
  for (let i = 0; i < RANDOM_CHARS; i++) text += ALPHABET[lastRandom[i]];
  return text;
}

function encodeTime(ts: number): string {
  let text = '';
  let rest = ts;
  for (let i = 0; i < TIME_CHARS; i++) {
    text = ALPHABET[rest % 32] + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

/** 80 fresh random bits as 16 base32 digits. */
function nextRandom(): void {
  if (poolOffset + 10 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let bits = 0;
  let value = 0;
  let digit = 0;
  for (let i = 0; i < 10; i++) {
    value = (value << 8) | pool[poolOffset + i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      lastRandom[digit++] = (value >>> bits) & 31;
    }
    value &= (1 << bits) - 1;
  }
  poolOffset += 10;
}

/** The random part plus one (an overflow past 2^80 ids in a millisecond wraps: never). */
function increment(): void {
  for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
    if (lastRandom[i] < 31) {
      lastRandom[i] += 1;
      return;
    }
    lastRandom[i] = 0;
  }
}
