import type { Socket } from 'socket.io-client';
import { mintToken } from '../src/auth/token-minter.js';
import { CHAT_NAMESPACE, ChatEvent, type ChatMessage } from '../src/chat/chat.events.js';
import { compareOffsets } from '../src/cluster/stream-order.js';
import { closeAllClients, connectClient, waitFor } from './support/clients.js';
import { ack, joinRoom } from './support/cluster-harness.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';
import { killAllSpawned, spawnApp, type SpawnedApp } from './support/spawn-app.js';

const SECRET = 'stream-order-secret-long-enough-for-hs256-0123456789';
const ROOM = 'order';
/**
 * How long the instance is paused: past the 1 s deadline on its XADDs and the 1 s after
 * which a reader without progress counts as stuck, the clocks a stall used to trip.
 */
const PAUSE_MS = 1500;
const PAUSES = 2;
/** Acked messages from each sender before each pause, and after each resume. */
const ACKS_AROUND_PAUSE = 100;

interface Received {
  readonly text: string;
  /** The stream id Socket.IO appends for connection state recovery. */
  readonly offset: unknown;
}

/** Sends `<prefix>0, <prefix>1, …` to the room back to back, each after the last one's ack. */
function startSending(socket: Socket, prefix: string) {
  const acked: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const result = await ack(socket, ChatEvent.MessageSend, { room: ROOM, text: prefix + i });
      if (!result.ok) throw new Error(`send refused: ${result.error.code}`);
      acked.push(prefix + i);
      for (const waiter of waiters.filter((w) => acked.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  })();
  return {
    acked,
    /** Resolves once `more` messages past those acked so far are acked. */
    ackMore: (more: number) =>
      Promise.race([
        new Promise<void>((resolve) => waiters.push({ count: acked.length + more, resolve })),
        loop.then(() => {
          throw new Error(`${prefix}: sending stopped`);
        }),
      ]),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterAll(async () => {
  closeAllClients();
  killAllSpawned();
  await stopAllRedis();
});

describe('stream order on the streams adapter', () => {
  async function chat(app: SpawnedApp, sub: string): Promise<Socket> {
    const socket = await connectClient(app.url, CHAT_NAMESPACE, {
      auth: { token: await mintToken({ secret: SECRET, sub, name: sub }) },
    });
    await joinRoom(socket, ROOM);
    return socket;
  }

  // Recovery replays what follows the offset of the last packet a client got: any packet
  // that arrives after a later one becomes a duplicate when that client recovers.
  it('an instance paused and resumed while both instances send gives its client every message once, each with its stream offset, in stream order', async () => {
    const redis = await startRedis();
    const env = {
      JWT_SECRET: SECRET,
      REDIS_URL: redis.url,
      REDIS_ADAPTER: 'streams',
      // The adapter's own stream order, which room history would take over for message:new.
      ROOM_HISTORY_SIZE: '0',
      WS_RATE_LIMIT_PER_S: '10000',
      WS_RATE_LIMIT_BURST: '10000',
    };
    const [a, b] = await Promise.all([spawnApp(env), spawnApp(env)]);
    const receiver = await chat(a, 'rx');
    const received: Received[] = [];
    receiver.on(ChatEvent.MessageNew, (message: ChatMessage, offset: unknown) =>
      received.push({ text: message.text, offset }),
    );
    // The paused instance's own broadcasts race the entries its reader brings from the other.
    const senderA = await chat(a, 'tx-a');
    const senderB = await chat(b, 'tx-b');
    const fromA = startSending(senderA, 'a');
    const fromB = startSending(senderB, 'b');
    try {
      for (let pause = 0; pause < PAUSES; pause++) {
        await Promise.all([fromA.ackMore(ACKS_AROUND_PAUSE), fromB.ackMore(ACKS_AROUND_PAUSE)]);
        process.kill(a.pid, 'SIGSTOP');
        try {
          await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        } finally {
          process.kill(a.pid, 'SIGCONT');
        }
        await Promise.all([fromA.ackMore(ACKS_AROUND_PAUSE), fromB.ackMore(ACKS_AROUND_PAUSE)]);
      }
    } finally {
      await Promise.all([fromA.stop(), fromB.stop()]);
    }
    // One end marker per sender: each one's messages reach the receiver in sending order.
    for (const [sender, end] of [
      [senderA, 'end-a'],
      [senderB, 'end-b'],
    ] as const) {
      const arrived = waitFor<ChatMessage>(receiver, ChatEvent.MessageNew, {
        match: (message) => message.text === end,
      });
      await ack(sender, ChatEvent.MessageSend, { room: ROOM, text: end });
      await arrived;
    }

    const data = received.filter((r) => /^[ab]\d+$/.test(r.text));
    const counts = new Map<string, number>();
    for (const { text } of data) counts.set(text, (counts.get(text) ?? 0) + 1);
    const acked = [...fromA.acked, ...fromB.acked];
    const offsets = data.map((r) => r.offset);
    const withoutOffset = data.filter((r) => typeof r.offset !== 'string').map((r) => r.text);
    const backwards = data.filter(
      (r, i) =>
        i > 0 &&
        typeof r.offset === 'string' &&
        typeof offsets[i - 1] === 'string' &&
        compareOffsets(r.offset, offsets[i - 1] as string) <= 0,
    );
    expect(acked.length).toBeGreaterThan(4 * PAUSES * ACKS_AROUND_PAUSE);
    expect({
      lost: acked.filter((text) => !counts.has(text)),
      duplicated: [...counts].filter(([, count]) => count > 1).map(([text]) => text),
      withoutOffset,
      backwards: backwards.map((r) => `${r.text}@${String(r.offset)}`),
    }).toEqual({ lost: [], duplicated: [], withoutOffset: [], backwards: [] });
    for (const app of [a, b]) expect(await app.stop('SIGTERM')).toBe(0);
  }, 45_000);
});
