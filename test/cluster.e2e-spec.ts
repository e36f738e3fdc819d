import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io-client';
import {
  ChatEvent,
  type ChatMessage,
  type PresenceChange,
  type UserRef,
} from '../src/chat/chat.events.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
} from '../src/notifications/notifications.events.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';
import { ack, chatClient, joinRoom, startInstances } from './support/cluster-harness.js';
import { redisAvailable, startRedis, startRedisCluster, stopAllRedis } from './support/redis.js';

const NOTIFY_CLI = fileURLToPath(new URL('../dist/cli/notify.js', import.meta.url));

interface Topology {
  readonly label: string;
  readonly adapter: 'pubsub' | 'sharded' | 'streams';
  readonly redisCluster: boolean;
}

const topologies: Topology[] = [
  { label: 'pubsub on one Redis', adapter: 'pubsub', redisCluster: false },
  { label: 'sharded on one Redis', adapter: 'sharded', redisCluster: false },
  { label: 'sharded on a 3-master Redis Cluster', adapter: 'sharded', redisCluster: true },
  { label: 'streams on one Redis', adapter: 'streams', redisCluster: false },
];

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterAll(() => stopAllRedis());

describe.each(topologies)('three instances, $label', ({ adapter, redisCluster }) => {
  let redisUrl: string;
  let a: TestApp;
  let b: TestApp;
  let c: TestApp;

  beforeAll(async () => {
    redisUrl = redisCluster ? (await startRedisCluster()).url : (await startRedis()).url;
    [a, b, c] = await startInstances(3, { REDIS_URL: redisUrl, REDIS_ADAPTER: adapter });
  });
  afterAll(async () => {
    await Promise.all([a, b, c].map((instance) => instance?.close()));
  });
  afterEach(() => closeAllClients());

  it('a message sent on A reaches every member on A, B and C exactly once, never the sender, and no other room', async () => {
    const sender = await chatClient(a, 'sender');
    const members = [
      await chatClient(a, 'on-a'),
      await chatClient(b, 'on-b'),
      await chatClient(c, 'on-c'),
    ];
    const outsider = await chatClient(b, 'outsider');
    for (const socket of [sender, ...members]) await joinRoom(socket, 'general');
    await joinRoom(outsider, 'elsewhere');
    const got = [sender, ...members, outsider].map((socket) =>
      record<ChatMessage>(socket, ChatEvent.MessageNew),
    );

    const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
    // C's member sends the barrier below, so nothing on its own connection orders it after
    // A's messages: it has them all once the last one is in (one sender's arrive in order).
    const lastOnC = waitFor<ChatMessage>(members[2], ChatEvent.MessageNew, {
      timeoutMs: 10_000,
      match: (message) => message.text === texts.at(-1),
    });
    for (const text of texts) await ack(sender, ChatEvent.MessageSend, { room: 'general', text });

    // Last messages are barriers: on each connection, everything sent before has arrived.
    await joinRoom(sender, 'elsewhere');
    const outsiderBarrier = waitFor<ChatMessage>(outsider, ChatEvent.MessageNew);
    await ack(sender, ChatEvent.MessageSend, { room: 'elsewhere', text: 'barrier' });
    await outsiderBarrier;
    const isBarrier = (message: ChatMessage): boolean => message.text === 'barrier';
    const barriers = [sender, members[0], members[1]].map((socket) =>
      waitFor<ChatMessage>(socket, ChatEvent.MessageNew, { match: isBarrier }),
    );
    await ack(members[2], ChatEvent.MessageSend, { room: 'general', text: 'barrier' });
    await Promise.all([...barriers, lastOnC]);

    expect(got[0].map((m) => m.text)).toEqual(['barrier']);
    for (const received of got.slice(1, 3))
      expect(received.map((m) => m.text)).toEqual([...texts, 'barrier']);
    expect(got[3].map((m) => m.text)).toEqual(texts);
    expect(got[4].map((m) => m.text)).toEqual(['barrier']);
    expect(got[1][0].from).toEqual({ id: 'sender', name: 'SENDER' });
  });

  it('presence is cluster-wide: list, joined and left across instances', async () => {
    const watcher = await chatClient(a, 'watcher');
    await joinRoom(watcher, 'presence');
    const joined = record<PresenceChange>(watcher, ChatEvent.PresenceJoined);
    const left = record<PresenceChange>(watcher, ChatEvent.PresenceLeft);
    const dana: UserRef = { id: 'dana', name: 'DANA' };

    const danaOnB = await chatClient(b, 'dana');
    const firstJoin = waitFor<PresenceChange>(watcher, ChatEvent.PresenceJoined);
    await joinRoom(danaOnB, 'presence');
    expect(await firstJoin).toEqual({ room: 'presence', user: dana });

    const danaOnC = await chatClient(c, 'dana');
    await joinRoom(danaOnC, 'presence');
    const listed = await ack<{ users: UserRef[] }>(watcher, ChatEvent.PresenceList, {
      room: 'presence',
    });
    expect(listed.ok && [...listed.users].sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      dana,
      { id: 'watcher', name: 'WATCHER' },
    ]);

    danaOnB.disconnect();
    const barrier = waitFor<ChatMessage>(watcher, ChatEvent.MessageNew);
    await ack(danaOnC, ChatEvent.MessageSend, { room: 'presence', text: 'still here on C' });
    await barrier;
    expect(left).toEqual([]);

    const lastLeave = waitFor<PresenceChange>(watcher, ChatEvent.PresenceLeft);
    danaOnC.disconnect();
    expect(await lastLeave).toEqual({ room: 'presence', user: dana });
    expect(joined).toEqual([{ room: 'presence', user: dana }]);
    expect(await ack(watcher, ChatEvent.PresenceList, { room: 'presence' })).toEqual({
      ok: true,
      users: [{ id: 'watcher', name: 'WATCHER' }],
    });
  });

  it("a notification from A's NotificationsService reaches the user's sockets on every instance", async () => {
    const sockets: Socket[] = [];
    for (const instance of [a, b, c]) {
      sockets.push(
        await connectClient(instance.url, NOTIFICATIONS_NAMESPACE, {
          auth: { token: await instance.token('erin') },
        }),
      );
    }
    const bystander = await connectClient(b.url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await b.token('frank') },
    });
    const bystanderGot = record<Notification>(bystander, NotificationEvent.Notification);
    const arrivals = sockets.map((socket) =>
      waitFor<Notification>(socket, NotificationEvent.Notification),
    );
    const sent = await a.app
      .get(NotificationsService)
      .notifyUser('erin', 'mention', { room: 'general' });
    for (const arrival of arrivals)
      expect(await arrival).toEqual({
        id: sent.id,
        type: 'mention',
        data: { room: 'general' },
        ts: sent.ts,
      });
    const barrier = waitFor<Notification>(bystander, NotificationEvent.Notification);
    await c.app.get(NotificationsService).notifyUser('frank', 'barrier', null);
    await barrier;
    expect(bystanderGot.map((n) => n.type)).toEqual(['barrier']);
  });

  it('the emitter example script (npm run notify) reaches a user connected to any instance', async () => {
    const onC = await connectClient(c.url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await c.token('gina') },
    });
    const arrival = waitFor<Notification>(onC, NotificationEvent.Notification, {
      timeoutMs: 10_000,
    });
    const child = spawn(
      process.execPath,
      [NOTIFY_CLI, '--user', 'gina', '--type', 'from-cli', '--data', '{"n":1}'],
      {
        env: { PATH: process.env.PATH ?? '', REDIS_URL: redisUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await arrival).toMatchObject({ type: 'from-cli', data: { n: 1 } });
  });
});
