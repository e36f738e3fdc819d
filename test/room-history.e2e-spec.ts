/**
 * Room history with gap-free resume, on three instances for every adapter (and one instance
 * in memory): the join ack and the live messages meet with no gap and no repeat, every socket
 * gets a room's messages in offset order, a client away comes back with exactly what it
 * missed, a message lost in transit is healed from history, an emptied Redis starts a new
 * epoch, and a repeated `clientMsgId` is delivered once.
 */
import type { Socket } from 'socket.io-client';
import { createClient } from 'redis';
import { ChatRooms, connectChat } from '@nest-realtime-starter/client';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type JoinResult,
  type SendResult,
} from '../src/chat/chat.events.js';
import type { Ack } from '../src/gateway/ws-error.js';
import type { TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';
import { ack, chatClient, startInstances } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, startRedisCluster, stopAllRedis } from './support/redis.js';
import { startTcpSwitch } from './support/tcp-switch.js';

interface Topology {
  readonly label: string;
  readonly instances: number;
  readonly redis?: {
    readonly adapter: 'pubsub' | 'sharded' | 'streams';
    readonly cluster?: boolean;
  };
}

const topologies: Topology[] = [
  { label: 'one instance, in memory', instances: 1 },
  { label: 'pubsub', instances: 3, redis: { adapter: 'pubsub' } },
  {
    label: 'sharded on a 3-master Redis Cluster',
    instances: 3,
    redis: { adapter: 'sharded', cluster: true },
  },
  { label: 'streams', instances: 3, redis: { adapter: 'streams' } },
];

/** How long live traffic runs in the tests that send while others join. */
const TRAFFIC_MS = 1500;
const SEND_EVERY_MS = 10;

const offsetsOf = (messages: readonly ChatMessage[]): number[] => messages.map((m) => m.offset!);

/** Offsets that are not one more than the one before. */
function breaks(offsets: readonly number[]): string[] {
  const found: string[] = [];
  for (let i = 1; i < offsets.length; i++)
    if (offsets[i] !== offsets[i - 1] + 1) found.push(`${offsets[i - 1]}→${offsets[i]}`);
  return found;
}

async function send(socket: Socket, room: string, text: string, clientMsgId?: string) {
  return ack<SendResult>(socket, ChatEvent.MessageSend, { room, text, clientMsgId });
}

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterAll(() => stopAllRedis());

describe.each(topologies)('room history, $label', ({ instances: count, redis }) => {
  let apps: TestApp[];
  let redisUrl: string | undefined;
  let room = 0;
  const newRoom = () => `history-${++room}`;
  const on = (i: number): TestApp => apps[i % apps.length];

  beforeAll(async () => {
    if (redis)
      redisUrl = redis.cluster ? (await startRedisCluster()).url : (await startRedis()).url;
    apps = await startInstances(
      count,
      redisUrl ? { REDIS_URL: redisUrl, REDIS_ADAPTER: redis!.adapter } : {},
    );
  });
  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.close()));
  });
  afterEach(() => closeAllClients());

  it('joiners get the ack and then the live messages with no gap and no repeat, each in offset order, while senders on every instance send', async () => {
    const name = newRoom();
    const senders = await Promise.all([0, 1, 2].map((i) => chatClient(on(i), `sender${i}`)));
    for (const sender of senders) await ack(sender, ChatEvent.RoomJoin, { room: name });
    const watchers = await Promise.all([0, 1, 2].map((i) => chatClient(on(i), `watcher${i}`)));
    const seenByWatcher = watchers.map((w) => record<ChatMessage>(w, ChatEvent.MessageNew));
    for (const watcher of watchers) await ack(watcher, ChatEvent.RoomJoin, { room: name });

    let sent = 0;
    const inFlight: Promise<unknown>[] = [];
    const traffic = senders.map((sender, i) =>
      setInterval(() => inFlight.push(send(sender, name, `${i}:${sent++}`)), SEND_EVERY_MS),
    );
    // Joiners arrive while the traffic runs, on every instance.
    const joiners: { seen: ChatMessage[]; ack: Ack<JoinResult> }[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, TRAFFIC_MS / 6));
      const socket = await chatClient(on(i), `joiner${i}`);
      const seen = record<ChatMessage>(socket, ChatEvent.MessageNew);
      joiners.push({
        seen,
        ack: await ack<JoinResult>(socket, ChatEvent.RoomJoin, { room: name, history: 100 }),
      });
    }
    for (const timer of traffic) clearInterval(timer);
    // The fence comes after every message sent, so it is the last offset each socket sees.
    await Promise.all(inFlight);
    const fence = await send(senders[0], name, 'fence');
    if (!fence.ok) throw new Error(fence.error.code);
    const last = fence.offset!;

    await eventually(
      () =>
        [...seenByWatcher, ...joiners.map((j) => j.seen)].every(
          (seen) => seen.at(-1)?.offset === last,
        ),
      (all) => all,
      10_000,
    );
    for (const seen of seenByWatcher) {
      const offsets = offsetsOf(seen);
      expect(breaks(offsets)).toEqual([]);
      expect(offsets.at(-1)).toBe(last);
    }
    for (const joiner of joiners) {
      if (!joiner.ack.ok) throw new Error(joiner.ack.error.code);
      const offsets = offsetsOf([...(joiner.ack.messages ?? []), ...joiner.seen]);
      expect(breaks(offsets)).toEqual([]);
      expect(offsets.at(-1)).toBe(last);
      expect(joiner.ack.messages!.at(-1)?.offset ?? joiner.ack.offset).toBe(joiner.ack.offset);
    }
  });

  it('a client away comes back on another instance with `since` and gets exactly what it missed', async () => {
    const name = newRoom();
    const sender = await chatClient(on(0), 'talker');
    await ack(sender, ChatEvent.RoomJoin, { room: name });
    for (let i = 0; i < 5; i++) await send(sender, name, `before ${i}`);
    const away = await chatClient(on(1), 'away');
    const joined = await ack<JoinResult>(away, ChatEvent.RoomJoin, { room: name, history: 10 });
    if (!joined.ok) throw new Error(joined.error.code);
    away.disconnect();
    const missed: number[] = [];
    for (let i = 0; i < 7; i++)
      missed.push((await send(sender, name, `while away ${i}`)).ok ? i : -1);

    const back = await chatClient(on(2), 'away');
    const resumed = await ack<JoinResult>(back, ChatEvent.RoomJoin, {
      room: name,
      since: { offset: joined.offset!, epoch: joined.epoch! },
    });
    if (!resumed.ok) throw new Error(resumed.error.code);
    expect(resumed.recovered).toBe(true);
    expect(resumed.messages!.map((m) => m.text)).toEqual(missed.map((i) => `while away ${i}`));
    expect(resumed.epoch).toBe(joined.epoch);
  });

  it('an app on the client package, cut off and sent to another instance by its balancer, shows every message once, in order, and what it sent once', async () => {
    const name = newRoom();
    const sender = await chatClient(on(0), 'speaker');
    await ack(sender, ChatEvent.RoomJoin, { room: name });
    await send(sender, name, 'before');
    const balancer = await startTcpSwitch(Number(new URL(on(1).url).port));
    const token = await on(1).token('app-user');
    const socket = connectChat(balancer.url, {
      getToken: () => token,
      connection: { reconnectionDelay: 100, reconnectionDelayMax: 200 },
    });
    const shown: ChatMessage[] = [];
    const rooms = new ChatRooms(socket, {
      joined: (_room, messages) => shown.push(...messages),
      message: (message) => shown.push(message),
    });
    try {
      await waitFor(socket as unknown as Socket, 'connect');
      expect((await rooms.open(name)).ok).toBe(true);
      await send(sender, name, 'live');
      await eventually(
        () => shown.length,
        (n) => n === 2,
        5000,
      );

      balancer.switchTo(Number(new URL(on(2).url).port));
      balancer.cutAll();
      const own = rooms.send(name, 'mine, sent while cut off');
      for (let i = 0; i < 5; i++) await send(sender, name, `missed ${i}`);
      expect(await own).toMatchObject({ ok: true });
      await send(sender, name, 'after');
      await eventually(
        () => shown.at(-1)?.text,
        (text) => text === 'after',
        5000,
      );
      expect(shown.map((m) => m.text)).toEqual([
        'before',
        'live',
        ...Array.from({ length: 5 }, (_, i) => `missed ${i}`),
        'after',
      ]);
      const page = await ack<{ messages: ChatMessage[] }>(sender, ChatEvent.RoomHistory, {
        room: name,
      });
      expect(page.ok && page.messages.filter((m) => m.text.startsWith('mine'))).toHaveLength(1);
    } finally {
      rooms.close();
      socket.disconnect();
      await balancer.close();
    }
  });

  it('a repeated clientMsgId, sent five times at once on two instances, is delivered and stored once, and every copy gets the first ack', async () => {
    const name = newRoom();
    const [one, two] = await Promise.all([
      chatClient(on(0), 'repeater'),
      chatClient(on(1), 'repeater'),
    ]);
    const reader = await chatClient(on(2), 'reader');
    for (const socket of [one, two, reader]) await ack(socket, ChatEvent.RoomJoin, { room: name });
    const seen = record<ChatMessage>(reader, ChatEvent.MessageNew);
    const acks = await Promise.all(
      Array.from({ length: 5 }, (_, i) => send(i % 2 ? one : two, name, 'once', 'client-msg-1')),
    );
    const firsts = acks.map((a) => (a.ok ? `${a.id} ${a.ts} ${a.offset}` : a.error.code));
    expect(new Set(firsts).size).toBe(1);
    await send(one, name, 'after');
    await eventually(
      () => seen.map((m) => m.text),
      (texts) => texts.includes('after'),
      5000,
    );
    expect(seen.filter((m) => m.text === 'once')).toHaveLength(1);
    const page = await ack<{ messages: ChatMessage[] }>(reader, ChatEvent.RoomHistory, {
      room: name,
    });
    expect(page.ok && page.messages.filter((m) => m.text === 'once')).toHaveLength(1);
  });

  if (redis?.adapter === 'streams') {
    it('a socket that Socket.IO recovered gets the room live again without a re-join', async () => {
      const name = newRoom();
      const sender = await chatClient(on(0), 'speaker');
      await ack(sender, ChatEvent.RoomJoin, { room: name });
      const listener = await connectClient(on(1).url, CHAT_NAMESPACE, {
        auth: { token: await on(1).token('listener') },
        reconnection: true,
        reconnectionDelay: 50,
      });
      await ack(listener, ChatEvent.RoomJoin, { room: name });
      // A presence change gives the client an offset to recover from.
      const joined = waitFor(listener, ChatEvent.PresenceJoined);
      const other = await chatClient(on(0), 'other');
      await ack(other, ChatEvent.RoomJoin, { room: name });
      await joined;

      const back = waitFor(listener, 'connect');
      listener.io.engine.close();
      await back;
      expect(listener.recovered).toBe(true);
      const live = waitFor<ChatMessage>(listener, ChatEvent.MessageNew);
      await send(sender, name, 'after the recovery');
      expect((await live).text).toBe('after the recovery');
    });
  }

  if (redis && !redis.cluster) {
    it('a message lost in transit (the feed subscriber killed) reaches every member, in order, from history', async () => {
      const name = newRoom();
      const sender = await chatClient(on(0), 'steady');
      const member = await chatClient(on(1), 'member');
      for (const socket of [sender, member]) await ack(socket, ChatEvent.RoomJoin, { room: name });
      const seen = record<ChatMessage>(member, ChatEvent.MessageNew);
      const admin = createClient({ url: redisUrl });
      await admin.connect();
      let last = 0;
      for (let i = 0; i < 60; i++) {
        if (i % 20 === 10) await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
        const result = await send(sender, name, `n${i}`);
        if (result.ok) last = result.offset!;
      }
      admin.destroy();
      await eventually(
        () => seen.at(-1)?.offset,
        (offset) => offset === last,
        5000,
      );
      expect(breaks(offsetsOf(seen))).toEqual([]);
    });

    it('Redis emptied: the next join with `since` gets recovered: false and a new epoch, never old offsets mixed with new', async () => {
      const name = newRoom();
      const sender = await chatClient(on(0), 'before-flush');
      const first = await ack<JoinResult>(sender, ChatEvent.RoomJoin, { room: name });
      if (!first.ok) throw new Error(first.error.code);
      const member = await chatClient(on(2), 'stays-in');
      await ack(member, ChatEvent.RoomJoin, { room: name });
      const live = record<ChatMessage>(member, ChatEvent.MessageNew);
      for (let i = 0; i < 3; i++) await send(sender, name, `old ${i}`);
      const admin = createClient({ url: redisUrl });
      await admin.connect();
      await admin.flushAll();
      admin.destroy();
      await send(sender, name, 'new 0');
      await send(sender, name, 'new 1');
      // A member already in the room follows the new epoch live, from its first offset.
      await eventually(
        () => live.length,
        (n) => n === 5,
        5000,
      );
      expect(live.map((m) => `${m.offset}:${m.text}`)).toEqual([
        '1:old 0',
        '2:old 1',
        '3:old 2',
        '1:new 0',
        '2:new 1',
      ]);
      const comeback = await chatClient(on(1), 'after-flush');
      const resumed = await ack<JoinResult>(comeback, ChatEvent.RoomJoin, {
        room: name,
        since: { offset: 3, epoch: first.epoch! },
      });
      if (!resumed.ok) throw new Error(resumed.error.code);
      expect(resumed.recovered).toBe(false);
      expect(resumed.epoch).not.toBe(first.epoch);
      expect(resumed.messages!.map((m) => m.text)).toEqual(['new 0', 'new 1']);
      expect(resumed.messages![0].offset).toBe(1);
    });
  }
});
