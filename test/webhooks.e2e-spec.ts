/**
 * Lifecycle webhooks against a real HTTP receiver: signed batches, each transition once for
 * the cluster, nothing lost while the receiver is down, and nothing lost when the instance
 * that accepted the events is SIGKILLed (the queue is a Redis stream read by a consumer group).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { mintToken } from '../src/auth/token-minter.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient } from './support/clients.js';
import { ack } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, type RedisServer, startRedis, stopAllRedis } from './support/redis.js';
import { killAllSpawned, spawnApp } from './support/spawn-app.js';

const SECRET = 'webhook-secret-0123456789';
const JWT = 'webhooks-jwt-secret-long-enough-for-hs256-0123456789';

interface WebhookEvent {
  readonly name: string;
  readonly room?: string;
  readonly userId?: string;
  readonly time_ms: number;
}

const line = (event: WebhookEvent): string => `${event.name} ${event.room ?? event.userId}`;

/** A receiver that checks every signature and answers 503 while `down`. */
class Receiver {
  readonly events: WebhookEvent[] = [];
  readonly batches: number[] = [];
  badSignatures = 0;
  /** How many times each event was posted while `down`. */
  readonly refusedTimes = new Map<string, number>();
  down = false;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (this.down) {
          const { events } = JSON.parse(body.toString()) as { events: WebhookEvent[] };
          for (const each of events)
            this.refusedTimes.set(line(each), (this.refusedTimes.get(line(each)) ?? 0) + 1);
          res.writeHead(503).end();
          return;
        }
        const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
        const given = String(req.headers['x-signature'] ?? '');
        if (
          given.length !== expected.length ||
          !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
        ) {
          this.badSignatures++;
          res.writeHead(401).end();
          return;
        }
        const batch = JSON.parse(body.toString()) as { time_ms: number; events: WebhookEvent[] };
        this.batches.push(batch.events.length);
        this.events.push(...batch.events);
        res.writeHead(204).end();
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  count(wanted: string): number {
    return this.events.filter((event) => line(event) === wanted).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

let redis: RedisServer;
let receiver: Receiver;
let queue: ReturnType<typeof createClient>;
const apps: TestApp[] = [];

/**
 * True once every event accepted so far is delivered: each is deleted from the stream once the
 * receiver took it, so an empty stream means no POST or retry is still to come.
 */
async function nothingInFlight(): Promise<boolean> {
  return (await queue.sendCommand<number>(['XLEN', 'webhooks:events'])) === 0;
}

/** Waits until each of `lines` was delivered and nothing else is in flight, then counts them. */
async function deliveredCounts(lines: string[], timeoutMs: number): Promise<number[]> {
  // Batches from different instances (and retries) arrive in any order: the last event to
  // come can be any of them.
  await eventually(
    async () => lines.every((wanted) => receiver.count(wanted) >= 1) && (await nothingInFlight()),
    (done) => done,
    timeoutMs,
  );
  return lines.map((wanted) => receiver.count(wanted));
}

async function chatAs(url: string, userId: string): Promise<Socket> {
  return connectClient(url, CHAT_NAMESPACE, {
    auth: { token: await mintToken({ secret: JWT, sub: userId }) },
  });
}

beforeAll(async () => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  redis = await startRedis();
  queue = createClient({ url: redis.url });
  await queue.connect();
  receiver = new Receiver();
  await receiver.start();
  const env = {
    JWT_SECRET: JWT,
    REDIS_URL: redis.url,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WS_RATE_LIMIT_PER_S: '1000',
    WS_RATE_LIMIT_BURST: '1000',
  };
  for (let i = 0; i < 3; i++) apps.push(await startApp({ env }));
});
afterAll(async () => {
  closeAllClients();
  killAllSpawned();
  await Promise.all(apps.map((app) => app.close()));
  queue?.destroy();
  await receiver?.stop();
  await stopAllRedis();
});

it('posts each room and user transition once, in signed batches, with members of three instances racing', async () => {
  const rooms = Array.from({ length: 5 }, (_, i) => `hook-${i}`);
  const sockets = await Promise.all(apps.map((app, i) => chatAs(app.url, `hooker-${i}`)));
  await Promise.all(
    sockets.flatMap((socket) => rooms.map((room) => ack(socket, ChatEvent.RoomJoin, { room }))),
  );
  await Promise.all(
    sockets.flatMap((socket) => rooms.map((room) => ack(socket, ChatEvent.RoomLeave, { room }))),
  );
  for (const socket of sockets) socket.disconnect();
  const expected = [
    ...rooms.flatMap((room) => [`room.occupied ${room}`, `room.vacated ${room}`]),
    ...[0, 1, 2].flatMap((i) => [`user.online hooker-${i}`, `user.offline hooker-${i}`]),
  ];
  expect(await deliveredCounts(expected, 10_000)).toEqual(expected.map(() => 1));
  expect(receiver.badSignatures).toBe(0);
  // Batched: fewer POSTs than events.
  expect(receiver.batches.length).toBeLessThan(receiver.events.length);
});

it('keeps what happens while the receiver is down, retrying refused batches, and delivers it once when it is back', async () => {
  receiver.down = true;
  const sockets = await Promise.all(apps.map((app, i) => chatAs(app.url, `while-down-${i}`)));
  for (const socket of sockets) await ack(socket, ChatEvent.RoomJoin, { room: 'outage' });
  for (const socket of sockets) socket.disconnect();
  const expected = [
    'room.occupied outage',
    'room.vacated outage',
    ...[0, 1, 2].flatMap((i) => [`user.online while-down-${i}`, `user.offline while-down-${i}`]),
  ];
  // Down until every event of the outage was posted, refused, retried and refused again, by
  // whichever instance holds it.
  await eventually(
    () => expected.map((wanted) => receiver.refusedTimes.get(wanted) ?? 0),
    (times) => times.every((n) => n >= 2),
    10_000,
  );
  receiver.down = false;
  // Each instance retries on its own backoff: every event arrives, each once.
  expect(await deliveredCounts(expected, 20_000)).toEqual(expected.map(() => 1));
}, 40_000);

it('loses nothing when the instance that accepted the events is SIGKILLed before delivering them', async () => {
  receiver.down = true;
  // A Redis of its own, and the doomed instance alone on it: the events can only be in its hands.
  const own = await startRedis();
  const env = {
    JWT_SECRET: JWT,
    REDIS_URL: own.url,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
  };
  const doomed = await spawnApp(env);
  const socket = await chatAs(doomed.url, 'doomed-user');
  await ack(socket, ChatEvent.RoomJoin, { room: 'doomed-room' });
  const admin = createClient({ url: own.url });
  await admin.connect();
  // Accepted, read by the doomed instance, waiting on the receiver.
  await eventually(
    () => admin.sendCommand<[number]>(['XPENDING', 'webhooks:events', 'webhooks']),
    ([pending]) => Number(pending) >= 2,
    5000,
  );
  expect(await doomed.stop('SIGKILL')).toBeNull();
  receiver.down = false;
  const survivor = await spawnApp(env);
  // The survivor claims the dead instance's entries once they are idle, and delivers them.
  await eventually(
    () => [receiver.count('user.online doomed-user'), receiver.count('room.occupied doomed-room')],
    ([online, occupied]) => online === 1 && occupied === 1,
    25_000,
  );
  await eventually(
    () => admin.sendCommand<[number]>(['XPENDING', 'webhooks:events', 'webhooks']),
    ([pending]) => Number(pending) === 0,
    5000,
  );
  admin.destroy();
  expect(await survivor.stop('SIGTERM')).toBe(0);
}, 45_000);
