import { jest } from '@jest/globals';
import { STALL_MS } from '../common/running-time.js';
import type { RawEntry } from '../compat/streams-adapter.js';
import { compareOffsets, StreamOrder } from './stream-order.js';
import { checkPhase, elapse, stall } from '../../test/support/loop-turns.js';

const ME = 'me';
/** socket.io-adapter's `MessageType.BROADCAST`, as the stream stores it. */
const BROADCAST = '3';
const OWN: RawEntry = { uid: ME, type: BROADCAST };
const OTHER: RawEntry = { uid: 'other', type: BROADCAST };

/** One own broadcast, from its XADD going out to its local delivery. */
interface OwnBroadcast {
  /** Its XADD answers with its stream id (`StreamOrder.published`'s settle callback). */
  answer(offset: string): void;
  /** Its local delivery is ready (the adapter's `apply`, a few microtasks after the answer). */
  deliver(): void;
  /** Its XADD answers and its delivery follows, as they do in the adapter. */
  stored(offset: string): void;
  /** Its XADD failed: it is delivered at once, with no offset. */
  fail(): void;
}

/**
 * A `StreamOrder` wired as `StreamsRecoveryCatchUp` wires it: the reader's entries go through
 * the adapter, which ignores its own and applies another instance's broadcast at once.
 * `delivered` lists local deliveries in the order they happen: the offset of each, or the name
 * of an own broadcast whose XADD failed.
 */
function setUp() {
  const delivered: string[] = [];
  const order: StreamOrder = new StreamOrder(ME, (message, offset) => {
    if (message.uid !== ME) order.deliver(offset, () => delivered.push(offset), true);
  });
  const read = (offset: string, message: RawEntry = OTHER): void => order.onEntry(message, offset);
  const broadcast = (name = 'own'): OwnBroadcast => {
    const settle = order.published();
    let stored: string | undefined;
    const self: OwnBroadcast = {
      answer: (offset) => {
        stored = offset;
        settle(offset);
      },
      deliver: () => {
        const offset = stored;
        order.deliver(offset, () => delivered.push(offset ?? name), false);
      },
      stored: (offset) => {
        self.answer(offset);
        self.deliver();
      },
      fail: () => {
        settle(undefined);
        self.deliver();
      },
    };
    return self;
  };
  return { order, delivered, read, broadcast };
}

/** A small seeded PRNG (mulberry32): the same seed, the same run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Simulated {
  /** Local deliveries, in the order they happened. */
  readonly delivered: string[];
  /** Offsets of the stream's entries that are delivered locally, in stream order. */
  readonly stream: string[];
  /** Names of the own broadcasts whose XADD failed. */
  readonly failed: string[];
}

/**
 * Two instances write `entries` entries to one stream, about half of them this one's; this
 * instance's reader reads them. Every step picks at random among what may happen next:
 * - the other instance appends an entry;
 * - this instance sends an XADD; the oldest XADD not yet stored is appended (an XADD's
 *   commands go out in order on one connection);
 * - the oldest stored XADD's answer is read (answers come in sending order), or it fails,
 *   stored or not (the client's deadline);
 * - the oldest answered broadcast's local delivery runs (the adapter's `apply`);
 * - this instance stores an entry no local delivery waits for (a broadcast with acks);
 * - the reader reads the next entry (in stream order) if there is one.
 * Stream ids grow as Redis's do, sequence numbers passing 10 within one millisecond.
 * With `timed`, running time passes between steps (and the process stalls now and then), so
 * pauses and holds may time out.
 */
async function simulate(seed: number, entries: number, timed: boolean): Promise<Simulated> {
  const random = mulberry32(seed);
  const { read, broadcast, delivered } = setUp();
  const stream: { offset: string; message: RawEntry; local: boolean }[] = [];
  const failed: string[] = [];
  interface Sent {
    readonly name: string;
    readonly broadcast: OwnBroadcast;
    entry?: (typeof stream)[number];
  }
  const unstored: Sent[] = [];
  const unanswered: Sent[] = [];
  const undelivered: Sent[] = [];
  let readNext = 0;
  let toWrite = entries;
  let ms = 1_700_000_000_000;
  let seq = 0;
  const append = (message: RawEntry, local = true) => {
    if (random() < 0.4) {
      ms += 1 + Math.floor(random() * 3);
      seq = 0;
    } else seq += 1;
    const entry = { offset: `${ms}-${seq}`, message, local };
    stream.push(entry);
    return entry;
  };
  // How eager each side is varies from seed to seed: a reader far behind, or right behind.
  const readerWeight = 0.3 + random() * 2;
  const answerWeight = 0.3 + random() * 2;
  const failRate = random() < 0.5 ? 0 : 0.1;

  for (;;) {
    const steps: [weight: number, step: () => void][] = [];
    if (toWrite > 0) {
      steps.push([1, () => (toWrite--, append(OTHER))]);
      steps.push([
        1,
        () => {
          toWrite--;
          const name = `own#${entries - toWrite}`;
          unstored.push({ name, broadcast: broadcast(name) });
        },
      ]);
      if (unstored.length === 0) steps.push([0.05, () => (toWrite--, append(OWN, false))]);
    }
    if (unstored.length > 0) {
      steps.push([
        1,
        () => {
          const sent = unstored.shift()!;
          sent.entry = append(OWN);
          unanswered.push(sent);
        },
      ]);
      if (unanswered.length === 0 && failRate > 0)
        steps.push([
          failRate,
          () => {
            const sent = unstored.shift()!;
            failed.push(sent.name);
            sent.broadcast.fail();
          },
        ]);
    }
    if (unanswered.length > 0) {
      steps.push([
        answerWeight,
        () => {
          const sent = unanswered.shift()!;
          sent.broadcast.answer(sent.entry!.offset);
          undelivered.push(sent);
        },
      ]);
      if (failRate > 0)
        steps.push([
          failRate,
          () => {
            // Stored, but the answer came too late for the client's deadline.
            const sent = unanswered.shift()!;
            sent.entry!.local = false;
            failed.push(sent.name);
            sent.broadcast.fail();
          },
        ]);
    }
    if (undelivered.length > 0)
      steps.push([answerWeight, () => undelivered.shift()!.broadcast.deliver()]);
    if (readNext < stream.length)
      steps.push([
        readerWeight,
        () => {
          const { message, offset } = stream[readNext++];
          read(offset, message);
        },
      ]);
    if (steps.length === 0) break;

    let pick = random() * steps.reduce((sum, [weight]) => sum + weight, 0);
    const step = steps.find(([weight]) => (pick -= weight) < 0) ?? steps[steps.length - 1];
    step[1]();

    if (timed) {
      const wait = random();
      if (wait < 0.01) await stall(STALL_MS + Math.floor(random() * 3000));
      else if (wait < 0.02) await elapse(500 + Math.floor(random() * 1500));
      else if (wait < 0.3) await elapse(Math.floor(random() * 20));
    }
  }
  if (timed) await elapse(11_000);
  return {
    delivered,
    stream: stream.filter((entry) => entry.local).map((entry) => entry.offset),
    failed,
  };
}

describe('StreamOrder', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('hands the entries of other instances on at once, in stream order', () => {
    const { read, delivered } = setUp();
    read('100-0');
    expect(delivered).toEqual(['100-0']);
    read('100-1');
    read('101-0');
    expect(delivered).toEqual(['100-0', '100-1', '101-0']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an own broadcast stored before the reader gets there waits for the reader, behind the earlier entries of other instances', () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('100-2');
    expect(delivered).toEqual(['100-0']);
    read('100-1');
    expect(delivered).toEqual(['100-0', '100-1']);
    read('100-2', OWN);
    expect(delivered).toEqual(['100-0', '100-1', '100-2']);
    read('100-3');
    expect(delivered).toEqual(['100-0', '100-1', '100-2', '100-3']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('the reader pauses at an own entry whose XADD has not answered; once it is delivered it goes first, then what the reader read meanwhile', () => {
    const { read, broadcast, delivered } = setUp();
    const own = broadcast();
    read('100-0');
    read('100-1', OWN);
    read('100-2');
    read('100-3');
    expect(delivered).toEqual(['100-0']);
    own.answer('100-1');
    // Answered, but its delivery has not run yet.
    expect(delivered).toEqual(['100-0']);
    own.deliver();
    expect(delivered).toEqual(['100-0', '100-1', '100-2', '100-3']);
    read('100-4');
    expect(delivered).toEqual(['100-0', '100-1', '100-2', '100-3', '100-4']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('several XADDs answered before their deliveries ran: the reader waits at each own entry for its delivery', () => {
    // The bug this guards against: five XADDs answered, the first delivered, and the reader
    // went on past the other four, handing on the entries behind them first.
    const { read, broadcast, delivered } = setUp();
    const own = [broadcast(), broadcast(), broadcast(), broadcast(), broadcast()];
    own.forEach((b, i) => b.answer(`100-${2 * i}`));
    own[0].deliver();
    expect(delivered).toEqual([]);
    for (let i = 0; i < 10; i++) read(`100-${i}`, i % 2 === 0 ? OWN : OTHER);
    expect(delivered).toEqual(['100-0', '100-1']);
    for (let i = 1; i < 5; i++) {
      own[i].deliver();
      expect(delivered).toEqual(Array.from({ length: 2 * i + 2 }, (_, j) => `100-${j}`));
    }
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an own entry is awaited even when the reader reaches it before any of the answers came', () => {
    const { read, broadcast, delivered } = setUp();
    const [first, second] = [broadcast(), broadcast()];
    read('100-0', OWN);
    read('100-1');
    read('100-2', OWN);
    read('100-3');
    first.answer('100-0');
    second.answer('100-2');
    expect(delivered).toEqual([]);
    first.deliver();
    expect(delivered).toEqual(['100-0', '100-1']);
    second.deliver();
    expect(delivered).toEqual(['100-0', '100-1', '100-2', '100-3']);
  });

  it('a failed XADD is delivered at once and does not hold the reader back', () => {
    const { read, broadcast, delivered } = setUp();
    const failing = broadcast('failed');
    const next = broadcast();
    failing.fail();
    expect(delivered).toEqual(['failed']);
    next.stored('100-1');
    read('100-0');
    read('100-1', OWN);
    read('100-2');
    expect(delivered).toEqual(['failed', '100-0', '100-1', '100-2']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an XADD that fails while the reader waits at its entry (stored, but answered too late) lets the reader go on', () => {
    const { read, broadcast, delivered } = setUp();
    const own = broadcast('failed');
    read('100-0', OWN);
    read('100-1');
    expect(delivered).toEqual([]);
    own.fail();
    expect([...delivered].sort()).toEqual(['100-1', 'failed']);
    read('100-2');
    expect(delivered).toHaveLength(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an own broadcast already held does not pause the reader, even while a later XADD is unanswered', () => {
    const { read, broadcast, delivered } = setUp();
    broadcast().stored('100-1');
    broadcast();
    read('100-0');
    read('100-1', OWN);
    read('100-2');
    expect(delivered).toEqual(['100-0', '100-1', '100-2']);
  });

  it('an own entry stored by an XADD that failed on its deadline does not pause the reader behind a later XADD', () => {
    const { read, broadcast, delivered } = setUp();
    const timedOut = broadcast('timed-out');
    timedOut.fail();
    broadcast().stored('100-5');
    broadcast(); // unanswered, sent after the one stored at 100-5: it cannot be 100-1
    // Redis stored the timed-out one after all, at 100-1.
    read('100-0');
    read('100-1', OWN);
    read('100-2');
    expect(delivered).toEqual(['timed-out', '100-0', '100-2']);
  });

  it('an error thrown while a queued entry is handed on is reported, and the entries after it still go', () => {
    const delivered: string[] = [];
    const errors: unknown[] = [];
    const order: StreamOrder = new StreamOrder(
      ME,
      (message, offset) => {
        if (message.uid === ME) return;
        if (offset === '100-1') throw new Error('a listener failed');
        order.deliver(offset, () => delivered.push(offset), true);
      },
      undefined,
      (error) => errors.push(error),
    );
    const settle = order.published();
    order.onEntry(OWN, '100-0');
    order.onEntry(OTHER, '100-1');
    order.onEntry(OTHER, '100-2');
    expect(delivered).toEqual([]);
    settle('100-0');
    order.deliver('100-0', () => delivered.push('100-0'), false);
    expect(delivered).toEqual(['100-0', '100-2']);
    expect(errors).toEqual([new Error('a listener failed')]);
  });

  it('other kinds of own entries never pause the reader', () => {
    const { read, broadcast, delivered } = setUp();
    broadcast();
    // SOCKETS_JOIN, say: the adapter ignores its own, and no local delivery waits for it.
    read('100-0', { uid: ME, type: '4' });
    read('100-1');
    expect(delivered).toEqual(['100-1']);
  });

  it('a pause ends after 1 s even if the XADD never answers; the entries read meanwhile follow in order, and the late broadcast goes at once', async () => {
    const { read, broadcast, delivered } = setUp();
    const own = broadcast();
    read('100-0');
    read('100-1', OWN);
    await elapse(300);
    read('100-2');
    read('100-3');
    await elapse(699);
    expect(delivered).toEqual(['100-0']);
    await elapse(1);
    expect(delivered).toEqual(['100-0', '100-2', '100-3']);
    own.stored('100-1');
    expect(delivered).toEqual(['100-0', '100-2', '100-3', '100-1']);
    read('100-4');
    expect(delivered).toEqual(['100-0', '100-2', '100-3', '100-1', '100-4']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('after a pause timed out, the next own entry still waits for its own delivery', async () => {
    const { read, broadcast, delivered } = setUp();
    const [late, next] = [broadcast(), broadcast()];
    read('100-0', OWN);
    await elapse(1000);
    read('100-1', OWN);
    read('100-2');
    late.stored('100-0');
    expect(delivered).toEqual(['100-0']);
    next.stored('100-1');
    expect(delivered).toEqual(['100-0', '100-1', '100-2']);
  });

  it('a held broadcast goes after the reader made no progress for 1 s, not before, and only once', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('100-2');
    await elapse(999);
    expect(delivered).toEqual(['100-0']);
    await elapse(1);
    expect(delivered).toEqual(['100-0', '100-2']);
    expect(jest.getTimerCount()).toBe(0);
    // The reader comes back: the broadcast is not delivered again.
    read('100-1');
    read('100-2', OWN);
    read('100-3');
    expect(delivered).toEqual(['100-0', '100-2', '100-1', '100-3']);
  });

  it("a reader busy with another namespace's entries is not stuck: the held broadcast waits for it", async () => {
    const progress = { at: performance.now() };
    const delivered: string[] = [];
    const chat = new StreamOrder(ME, () => undefined, progress);
    const other = new StreamOrder(ME, () => undefined, progress);
    const settle = chat.published();
    settle('100-9');
    chat.deliver('100-9', () => delivered.push('100-9'), false);
    // 1.5 s of the other namespace's entries (earlier in the stream), none of this one's.
    for (let i = 0; i < 15; i++) {
      await elapse(100);
      other.onEntry(OTHER, `99-${i}`);
    }
    expect(delivered).toEqual([]);
    chat.onEntry(OWN, '100-9');
    expect(delivered).toEqual(['100-9']);
  });

  it('a broadcast held for less than 1 s stays held, however long the reader has been silent', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    await elapse(900);
    broadcast().stored('100-2');
    await elapse(999);
    expect(delivered).toEqual(['100-0']);
    await elapse(1);
    expect(delivered).toEqual(['100-0', '100-2']);
  });

  it('a reader that keeps reading keeps a broadcast held: the 1 s counts from its last read', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('100-5');
    await elapse(900);
    read('100-1');
    await elapse(1099);
    expect(delivered).toEqual(['100-0', '100-1']);
    await elapse(1);
    expect(delivered).toEqual(['100-0', '100-1', '100-5']);
  });

  it('a held broadcast the reader passed in another namespace goes at the next check, not after 10 s', async () => {
    // Stored before the reader's first read: the reader never hands it on here.
    const progress = { at: performance.now() };
    const delivered: string[] = [];
    const mine = new StreamOrder(ME, () => undefined, progress);
    const other = new StreamOrder(ME, () => undefined, progress);
    const settle = mine.published();
    settle('100-5');
    mine.deliver('100-5', () => delivered.push('100-5'), false);
    for (let i = 0; i < 5; i++) {
      await elapse(100);
      other.onEntry(OTHER, `200-${i}`);
    }
    expect(delivered).toEqual(['100-5']);
  });

  it('a broadcast is held no longer than 10 s, however busy the reader far behind it is', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('900-0');
    for (let i = 1; i < 100; i++) {
      await elapse(100);
      read(`100-${i}`);
    }
    await elapse(99);
    expect(delivered).not.toContain('900-0');
    await elapse(1);
    expect(delivered.at(-1)).toBe('900-0');
    expect(delivered).toHaveLength(101);
  });

  it('a check that falls due in the same loop turn as the reader answers looks at the answer first', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('100-2');
    await elapse(999);
    // The turn at 1 s: its timers (the check falls due), then its I/O (the reader), then the check.
    jest.advanceTimersByTime(1);
    read('100-1');
    await checkPhase();
    expect(delivered).toEqual(['100-0', '100-1']);
    read('100-2', OWN);
    expect(delivered).toEqual(['100-0', '100-1', '100-2']);
  });

  it('a stall of this process does not count as the reader being stuck: the held broadcast waits for the reader', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('101-0');
    await elapse(100);
    // Two seconds without running: the check falls due late, then runs in the same turn.
    await stall(2000);
    expect(delivered).toEqual(['100-0']);
    // The reader's answer comes a little later.
    await elapse(20);
    expect(delivered).toEqual(['100-0']);
    read('100-1');
    read('101-0', OWN);
    expect(delivered).toEqual(['100-0', '100-1', '101-0']);
  });

  it('after a stall, a reader that stays silent for 1 s of running time still lets a held broadcast go', async () => {
    const { read, broadcast, delivered } = setUp();
    read('100-0');
    broadcast().stored('101-0');
    await elapse(100);
    await stall(2000);
    await elapse(999);
    expect(delivered).toEqual(['100-0']);
    await elapse(1);
    expect(delivered).toEqual(['100-0', '101-0']);
  });

  it('a stall during a pause starts its 1 s over: an XADD answer read after the stall still goes first', async () => {
    const { read, broadcast, delivered } = setUp();
    const own = broadcast();
    read('100-0');
    read('100-1', OWN);
    read('100-2');
    await elapse(100);
    // The pause's deadline falls due 500 ms late: this process, not Redis, was slow.
    await stall(1400);
    expect(delivered).toEqual(['100-0']);
    own.stored('100-1');
    expect(delivered).toEqual(['100-0', '100-1', '100-2']);
  });

  it('after a stall, a pause whose XADD never answers still ends 1 s later', async () => {
    const { read, broadcast, delivered } = setUp();
    broadcast();
    read('100-0', OWN);
    read('100-1');
    await elapse(100);
    await stall(1400);
    await elapse(999);
    expect(delivered).toEqual([]);
    await elapse(1);
    expect(delivered).toEqual(['100-1']);
  });

  it('whatever the interleaving of XADD answers, deliveries and the reader, delivers the stream in order, each entry once', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      // No time passes: nothing times out, so nothing may go out of order.
      const { delivered, stream, failed } = await simulate(seed, 300, false);
      const inStream = delivered.filter((d) => !d.startsWith('own#'));
      // The seed names the run that failed.
      expect({ seed, inStream }).toEqual({ seed, inStream: stream });
      expect({ seed, failed: delivered.filter((d) => d.startsWith('own#')).sort() }).toEqual({
        seed,
        failed: [...failed].sort(),
      });
      expect(jest.getTimerCount()).toBe(0);
    }
  });

  it('with time passing, stalls, pauses and holds timing out, delivers every broadcast exactly once', async () => {
    for (let seed = 1001; seed <= 1008; seed++) {
      const { delivered, stream, failed } = await simulate(seed, 300, true);
      expect({ seed, delivered: [...delivered].sort() }).toEqual({
        seed,
        delivered: [...stream, ...failed].sort(),
      });
      expect(jest.getTimerCount()).toBe(0);
    }
  });
});

describe('compareOffsets', () => {
  it('orders stream ids by their milliseconds, then their sequence, as numbers', () => {
    expect(compareOffsets('9-0', '10-0')).toBeLessThan(0);
    expect(compareOffsets('10-0', '9-0')).toBeGreaterThan(0);
    expect(compareOffsets('10-2', '10-10')).toBeLessThan(0);
    expect(compareOffsets('10-10', '10-2')).toBeGreaterThan(0);
    expect(compareOffsets('1700000000000-5', '1700000000000-5')).toBe(0);
    expect(compareOffsets('1700000000000-99', '1700000000001-0')).toBeLessThan(0);
    const ids = ['10-10', '9-1', '10-2', '100-0', '9-0', '10-0'];
    expect(ids.sort(compareOffsets)).toEqual(['9-0', '9-1', '10-0', '10-2', '10-10', '100-0']);
  });
});
