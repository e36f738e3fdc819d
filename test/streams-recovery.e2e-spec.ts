import type { Socket } from 'socket.io-client';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type PresenceChange,
  type UserRef,
} from '../src/chat/chat.events.js';
import type { TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';
import { ack, chatClient, joinRoom, startInstances } from './support/cluster-harness.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';
import { startTcpSwitch, type TcpSwitch } from './support/tcp-switch.js';

const ROOM = 'live';
/**
 * Cut/recover cycles per run, alternating B and A. Without the catch-up most recoveries here
 * lose a message; the many cycles keep the test sharp should the timing shift.
 */
const CYCLES = 24;
/** Acked messages before the cut, and after the reconnection, in each cycle. */
const BEFORE_CUT = 20;
const AFTER_RECONNECT = 50;
const SAME_INSTANCE_CYCLES = 3;
const TWO_SENDER_CYCLES = 12;
const RECONNECT_TIMEOUT_MS = 5000;

interface Traffic {
  /** Texts of the messages the server acked, in sending order. */
  readonly acked: readonly string[];
  /** Resolves once `count` messages in all were acked. */
  untilAcked(count: number): Promise<void>;
  /** Stops after the message in flight; rejects if a send failed. */
  stop(): Promise<void>;
}

/** Sends `n0, n1, …` to the room back to back (each send waits for its ack, nothing else). */
function startTraffic(sender: Socket, nextNumber: () => number): Traffic {
  const acked: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let stopped = false;
  const settle = (): void => {
    for (const waiter of [...waiters]) {
      if (acked.length < waiter.count) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const text = `n${nextNumber()}`;
      const result = await ack(sender, ChatEvent.MessageSend, { room: ROOM, text });
      if (!result.ok) throw new Error(`send ${text} refused: ${result.error.code}`);
      acked.push(text);
      settle();
    }
  })();
  // A failed send wakes whoever waits for acks; they then see the failure from `loop`.
  loop.catch(() => {
    stopped = true;
    for (const waiter of waiters.splice(0)) waiter.resolve();
  });
  return {
    acked,
    untilAcked: async (count) => {
      if (acked.length < count && !stopped)
        await new Promise<void>((resolve) => waiters.push({ count, resolve }));
      if (acked.length >= count) return;
      await loop;
      throw new Error(`traffic stopped after ${acked.length} of ${count} acks`);
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

interface CycleReport {
  readonly cycle: number;
  readonly to: string;
  readonly recovered: boolean;
  readonly sent: number;
  readonly lost: string[];
  readonly duplicated: string[];
  readonly inOrder: boolean;
  readonly idsIncreasing: boolean;
}

/** What the receiver got in one cycle, against what the server acked. */
function compare(
  base: Omit<CycleReport, 'lost' | 'duplicated' | 'inOrder' | 'idsIncreasing' | 'sent'>,
  acked: readonly string[],
  received: readonly ChatMessage[],
): CycleReport {
  const texts = received.map((message) => message.text);
  const counts = new Map<string, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  const ids = received.map((message) => message.id);
  return {
    ...base,
    sent: acked.length,
    lost: acked.filter((text) => !counts.has(text)),
    duplicated: [...counts].filter(([, count]) => count > 1).map(([text]) => text),
    inOrder: [...new Set(texts)].join() === acked.filter((text) => counts.has(text)).join(),
    idsIncreasing: ids.every((id, i) => i === 0 || ids[i - 1] < id),
  };
}

function failed(report: CycleReport): boolean {
  return (
    !report.recovered ||
    report.lost.length > 0 ||
    report.duplicated.length > 0 ||
    !report.inOrder ||
    !report.idsIncreasing
  );
}

function portOf(instance: TestApp): number {
  return Number(new URL(instance.url).port);
}

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterAll(() => stopAllRedis());

describe('connection state recovery on the streams adapter, two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let tcpSwitch: TcpSwitch | undefined;

  beforeAll(async () => {
    const redis = await startRedis();
    // Socket.IO's own recovery of room broadcasts: with room history on, message:new is
    // resumed with `since` instead (test/room-history.e2e-spec.ts).
    [a, b] = await startInstances(2, {
      REDIS_URL: redis.url,
      REDIS_ADAPTER: 'streams',
      ROOM_HISTORY_SIZE: '0',
    });
  });
  afterAll(async () => {
    await Promise.all([a, b].map((instance) => instance?.close()));
  });
  afterEach(async () => {
    closeAllClients();
    await tcpSwitch?.close();
    tcpSwitch = undefined;
  });

  /** A receiver in the room that reconnects by itself, through `url`. */
  async function receiver(url: string): Promise<Socket> {
    const socket = await connectClient(url, CHAT_NAMESPACE, {
      auth: { token: await a.token('rx') },
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    });
    await joinRoom(socket, ROOM);
    return socket;
  }

  /**
   * One cycle: messages flow from a sender on B; the switch points at `to` and the receiver's
   * transport is cut, so it reconnects by itself to `to` while they still flow; they go on for
   * a while, then stop, and an `end-<cycle>` barrier closes the cycle.
   */
  async function cutAndRecover(
    rx: Socket,
    sender: Socket,
    via: TcpSwitch,
    cycle: number,
    to: TestApp,
    nextNumber: () => number,
  ): Promise<CycleReport> {
    const received = record<ChatMessage>(rx, ChatEvent.MessageNew);
    const traffic = startTraffic(sender, nextNumber);
    let recovered: boolean;
    try {
      await traffic.untilAcked(BEFORE_CUT);
      via.switchTo(portOf(to));
      const reconnected = waitFor(rx, 'connect', { timeoutMs: RECONNECT_TIMEOUT_MS });
      via.cutAll();
      await reconnected;
      recovered = rx.recovered;
      await traffic.untilAcked(traffic.acked.length + AFTER_RECONNECT);
    } finally {
      await traffic.stop();
    }
    const end = `end-${cycle}`;
    const barrier = waitFor<ChatMessage>(rx, ChatEvent.MessageNew, {
      match: (message) => message.text === end,
    });
    await ack(sender, ChatEvent.MessageSend, { room: ROOM, text: end });
    await barrier;
    rx.off(ChatEvent.MessageNew);
    return compare(
      { cycle, to: to === a ? 'A' : 'B', recovered },
      traffic.acked,
      received.filter((message) => message.text !== end),
    );
  }

  async function setUp(): Promise<{ rx: Socket; sender: Socket; via: TcpSwitch }> {
    tcpSwitch = await startTcpSwitch(portOf(a));
    const rx = await receiver(tcpSwitch.url);
    const sender = await chatClient(b, 'tx');
    await joinRoom(sender, ROOM);
    return { rx, sender, via: tcpSwitch };
  }

  it('a client cut off while messages flow recovers on the other instance, A to B and B to A, with every message exactly once and in order', async () => {
    const { rx, sender, via } = await setUp();
    let n = 0;
    const reports: CycleReport[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const to = cycle % 2 === 0 ? b : a;
      reports.push(await cutAndRecover(rx, sender, via, cycle, to, () => n++));
    }

    expect(reports.filter(failed)).toEqual([]);
  }, 35_000);

  it('with senders on both instances, a recovering client gets every message of either exactly once, each sender in its order', async () => {
    const { rx, sender, via } = await setUp();
    const senderOnA = await chatClient(a, 'tx-a');
    await joinRoom(senderOnA, ROOM);
    let even = 0;
    let odd = 1;
    const parity = (message: ChatMessage): number => Number(message.text.slice(1)) % 2;
    const reports: CycleReport[] = [];
    for (let cycle = 0; cycle < TWO_SENDER_CYCLES; cycle++) {
      const to = cycle % 2 === 0 ? b : a;
      const received = record<ChatMessage>(rx, ChatEvent.MessageNew);
      const fromB = startTraffic(sender, () => (even += 2) - 2);
      const fromA = startTraffic(senderOnA, () => (odd += 2) - 2);
      let recovered: boolean;
      try {
        await Promise.all([fromB.untilAcked(BEFORE_CUT), fromA.untilAcked(BEFORE_CUT)]);
        via.switchTo(portOf(to));
        const reconnected = waitFor(rx, 'connect', { timeoutMs: RECONNECT_TIMEOUT_MS });
        via.cutAll();
        await reconnected;
        recovered = rx.recovered;
        await Promise.all([
          fromB.untilAcked(fromB.acked.length + AFTER_RECONNECT),
          fromA.untilAcked(fromA.acked.length + AFTER_RECONNECT),
        ]);
      } finally {
        await Promise.all([fromB.stop(), fromA.stop()]);
      }
      // One barrier per sender: each connection's messages arrive in order.
      for (const [socket, end] of [
        [sender, `end-b-${cycle}`],
        [senderOnA, `end-a-${cycle}`],
      ] as const) {
        const barrier = waitFor<ChatMessage>(rx, ChatEvent.MessageNew, {
          match: (m) => m.text === end,
        });
        await ack(socket, ChatEvent.MessageSend, { room: ROOM, text: end });
        await barrier;
      }
      rx.off(ChatEvent.MessageNew);
      const data = received.filter((message) => message.text.startsWith('n'));
      const toName = to === a ? 'A' : 'B';
      reports.push(
        compare(
          { cycle, to: `${toName}, from B`, recovered },
          fromB.acked,
          data.filter((m) => parity(m) === 0),
        ),
      );
      reports.push(
        compare(
          { cycle, to: `${toName}, from A`, recovered },
          fromA.acked,
          data.filter((m) => parity(m) === 1),
        ),
      );
    }

    const failures = reports.filter(
      (r) => !r.recovered || r.lost.length > 0 || r.duplicated.length > 0 || !r.inOrder,
    );
    expect(failures).toEqual([]);
  }, 35_000);

  it('a client cut off while messages flow recovers on the same instance, with nothing lost', async () => {
    const { rx, sender, via } = await setUp();
    let n = 0;
    const reports: CycleReport[] = [];
    for (let cycle = 0; cycle < SAME_INSTANCE_CYCLES; cycle++) {
      reports.push(await cutAndRecover(rx, sender, via, cycle, a, () => n++));
    }

    expect(reports.filter(failed)).toEqual([]);
  });

  it('a recovered client is present in its rooms again, on every instance', async () => {
    const { rx, sender, via } = await setUp();
    // A client recovers from the offset of the last packet it got: give it one.
    const first = waitFor<ChatMessage>(rx, ChatEvent.MessageNew);
    await ack(sender, ChatEvent.MessageSend, { room: ROOM, text: 'before the cut' });
    await first;
    const rejoined = waitFor<PresenceChange>(sender, ChatEvent.PresenceJoined, {
      match: (change) => change.user.id === 'rx',
    });
    via.switchTo(portOf(b));
    const reconnected = waitFor(rx, 'connect', { timeoutMs: RECONNECT_TIMEOUT_MS });
    via.cutAll();
    await reconnected;
    expect(rx.recovered).toBe(true);
    // It left when its transport was cut and came back: the others are told both.
    expect(await rejoined).toEqual({ room: ROOM, user: { id: 'rx', name: 'rx' } });
    for (const socket of [rx, sender]) {
      const listed = await ack<{ users: UserRef[] }>(socket, ChatEvent.PresenceList, {
        room: ROOM,
      });
      expect(listed.ok && listed.users.map((user) => user.id).sort()).toEqual(['rx', 'tx']);
    }
  });
});
