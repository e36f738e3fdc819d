/**
 * The service API under /api on three instances joined through Redis, for every
 * REDIS_ADAPTER: sockets spread over the instances, each route acting cluster-wide; the key
 * checked; the API absent without a key; malformed bodies answered 400, never 500.
 */
import { Injectable, Module } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import type { AuthUser } from '../src/auth/auth-user.js';
import { type RoomAccessRule, RoomRule } from '../src/chat/access/room-access-rule.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type PresentUser,
} from '../src/chat/chat.events.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
} from '../src/notifications/notifications.events.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';
import { ack } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';

const API_KEY = 'service-api-key-long-enough-0123456789abcdef';
const RELAXED_RATE = { WS_RATE_LIMIT_PER_S: '10000', WS_RATE_LIMIT_BURST: '10000' };

/** Who the app's `club:` rule admits: the app's own data, changed by the test. */
const clubMembers = new Set<string>();

@RoomRule('club:')
@Injectable()
class ClubRooms implements RoomAccessRule {
  allows(user: AuthUser): boolean {
    return clubMembers.has(user.id);
  }
}

@Module({ providers: [ClubRooms] })
class ClubRulesModule {}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(
  app: TestApp,
  method: string,
  path: string,
  { body, key = API_KEY }: { body?: string | object; key?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterAll(() => stopAllRedis());

describe.each(['pubsub', 'sharded', 'streams'] as const)('the service API (%s)', (adapter) => {
  let apps: TestApp[];
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${++n}`;

  const chatAs = async (i: number, userId: string): Promise<Socket> =>
    connectClient(apps[i].url, CHAT_NAMESPACE, {
      auth: { token: await apps[i].token(userId, { name: userId }) },
    });
  const inboxAs = async (i: number, userId: string): Promise<Socket> =>
    connectClient(apps[i].url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await apps[i].token(userId) },
    });

  beforeAll(async () => {
    const redis = await startRedis();
    apps = [];
    for (let i = 0; i < 3; i++)
      apps.push(
        await startApp({
          env: { REDIS_URL: redis.url, REDIS_ADAPTER: adapter, API_KEY, ...RELAXED_RATE },
          imports: [ClubRulesModule],
        }),
      );
  });
  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.close()));
  });
  afterEach(() => closeAllClients());

  it('refuses a missing or wrong key with 401, compared whole', async () => {
    for (const key of [
      null,
      '',
      'wrong',
      API_KEY.slice(0, -1),
      `${API_KEY}x`,
      API_KEY.toUpperCase(),
    ])
      expect(await call(apps[0], 'GET', '/api/stats', { key })).toEqual({
        status: 401,
        body: { code: 'UNAUTHORIZED', message: expect.any(String) },
      });
    expect((await call(apps[0], 'GET', '/api/stats')).status).toBe(200);
  });

  it('POST /api/notifications keeps and pushes to each user, on whichever instance holds them', async () => {
    const [ann, ben, offline] = [unique('ann'), unique('ben'), unique('away')];
    const annSocket = await inboxAs(1, ann);
    const benSocket = await inboxAs(2, ben);
    const annGot = waitFor<Notification>(annSocket, NotificationEvent.Notification);
    const benGot = waitFor<Notification>(benSocket, NotificationEvent.Notification);
    const answer = await call(apps[0], 'POST', '/api/notifications', {
      body: { userIds: [ann, ben, offline], type: 'invoice.paid', data: { invoice: 'inv_1' } },
    });
    expect(answer).toEqual({
      status: 202,
      body: { ids: [expect.any(String), expect.any(String), expect.any(String)] },
    });
    const ids = answer.body.ids as string[];
    expect(await annGot).toMatchObject({
      id: ids[0],
      type: 'invoice.paid',
      data: { invoice: 'inv_1' },
    });
    expect((await benGot).id).toBe(ids[1]);
    // Kept for the user who was away.
    const later = await inboxAs(2, offline);
    const listed = await ack<{ notifications: Notification[] }>(
      later,
      NotificationEvent.InboxList,
      {},
    );
    expect(listed.ok && listed.notifications.map((item) => item.id)).toEqual([ids[2]]);
    expect(
      (await call(apps[0], 'POST', '/api/notifications', { body: { userId: ann, type: 'one' } }))
        .status,
    ).toBe(202);
  });

  it('POST /api/rooms/:room/messages delivers to the members on every instance and keeps it in history', async () => {
    const room = unique('announcements');
    const members = await Promise.all([0, 1, 2].map((i) => chatAs(i, unique('member'))));
    for (const socket of members) await ack(socket, ChatEvent.RoomJoin, { room });
    const arrivals = members.map((socket) => waitFor<ChatMessage>(socket, ChatEvent.MessageNew));
    const answer = await call(apps[1], 'POST', `/api/rooms/${room}/messages`, {
      body: { text: 'maintenance at noon' },
    });
    expect(answer).toEqual({
      status: 201,
      body: { id: expect.any(String), ts: expect.any(Number), offset: 1 },
    });
    for (const message of await Promise.all(arrivals))
      expect(message).toMatchObject({
        id: answer.body.id,
        text: 'maintenance at noon',
        from: { id: 'system', name: 'System' },
        offset: 1,
      });
    expect(
      await call(apps[0], 'POST', '/api/rooms/user:someone/messages', { body: { text: 'x' } }),
    ).toEqual({
      status: 400,
      body: { code: 'VALIDATION', message: expect.stringContaining('reserved') },
    });
    const from = { id: 'billing-bot', name: 'Billing' };
    await call(apps[2], 'POST', `/api/rooms/${room}/messages`, { body: { text: 'paid', from } });
    const page = await ack<{ messages: ChatMessage[] }>(members[0], ChatEvent.RoomHistory, {
      room,
    });
    expect(page.ok && page.messages.map((m) => [m.from.id, m.text])).toEqual([
      ['system', 'maintenance at noon'],
      ['billing-bot', 'paid'],
    ]);
  });

  it('GET /api/rooms/:room, DELETE a member, and POST a disconnect act on every instance', async () => {
    const room = unique('ops');
    const carl = unique('carl');
    const dora = unique('dora');
    const carlSockets = [await chatAs(0, carl), await chatAs(2, carl)];
    const doraSocket = await chatAs(1, dora);
    for (const socket of [...carlSockets, doraSocket])
      await ack(socket, ChatEvent.RoomJoin, { room });

    const occupancy = await call(apps[2], 'GET', `/api/rooms/${room}`);
    expect(occupancy.status).toBe(200);
    expect(occupancy.body).toMatchObject({ room, connections: 3 });
    expect((occupancy.body.users as PresentUser[]).map((u) => u.id).sort()).toEqual(
      [carl, dora].sort(),
    );

    const removals = carlSockets.map((socket) => waitFor(socket, ChatEvent.RoomRemoved));
    const left = waitFor(doraSocket, ChatEvent.PresenceLeft);
    expect(
      await call(apps[1], 'DELETE', `/api/rooms/${room}/members/${carl}?reason=closed%20account`),
    ).toEqual({ status: 200, body: { removed: 2 } });
    for (const removal of await Promise.all(removals))
      expect(removal).toEqual({ room, reason: 'closed account' });
    expect(await left).toMatchObject({ room, user: { id: carl } });
    const dropped = record<ChatMessage>(carlSockets[0], ChatEvent.MessageNew);
    await ack(doraSocket, ChatEvent.MessageSend, { room, text: 'after the removal' });
    expect(await ack(carlSockets[1], ChatEvent.MessageSend, { room, text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_IN_ROOM' },
    });
    expect((await call(apps[0], 'GET', `/api/rooms/${room}`)).body).toMatchObject({
      connections: 1,
      users: [{ id: dora, name: dora }],
    });
    expect(dropped).toEqual([]);

    const reasons = carlSockets.map((socket) => waitFor<string>(socket, 'disconnect'));
    const notifications = await inboxAs(1, carl);
    const notificationsGone = waitFor<string>(notifications, 'disconnect');
    expect(await call(apps[0], 'POST', `/api/users/${carl}/disconnect`)).toEqual({
      status: 200,
      body: { disconnected: 3 },
    });
    expect(await Promise.all([...reasons, notificationsGone])).toEqual([
      'io server disconnect',
      'io server disconnect',
      'io server disconnect',
    ]);
    expect(doraSocket.connected).toBe(true);
  });

  it('a user removed from a room whose rule no longer admits them cannot come straight back', async () => {
    const room = unique('club:chess');
    const [eve, finn] = [unique('eve'), unique('finn')];
    clubMembers.add(eve).add(finn);
    const eveSockets = [await chatAs(0, eve), await chatAs(1, eve)];
    for (const socket of eveSockets) await ack(socket, ChatEvent.RoomJoin, { room });
    // The app withdraws the right, then has the API take the user out everywhere.
    clubMembers.delete(eve);
    expect(await call(apps[2], 'DELETE', `/api/rooms/${room}/members/${eve}`)).toEqual({
      status: 200,
      body: { removed: 2 },
    });
    for (const socket of eveSockets)
      expect(await ack(socket, ChatEvent.RoomJoin, { room })).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' },
      });
    // A user the rule still admits is removed, and may come back.
    const finnSocket = await chatAs(2, finn);
    await ack(finnSocket, ChatEvent.RoomJoin, { room });
    await call(apps[0], 'DELETE', `/api/rooms/${room}/members/${finn}`);
    expect(await ack(finnSocket, ChatEvent.RoomJoin, { room })).toMatchObject({ ok: true });
  });

  it('GET /api/stats lists every instance with its connections', async () => {
    const sockets = await Promise.all([0, 1, 1, 2].map((i) => chatAs(i, unique('counted'))));
    await eventually(
      async () => (await call(apps[0], 'GET', '/api/stats')).body,
      (body) => (body.instances as unknown[] | undefined)?.length === 3,
      5000,
    );
    const { status, body } = await call(apps[0], 'GET', '/api/stats');
    expect(status).toBe(200);
    const instances = body.instances as { id: string; connections: number }[];
    expect(new Set(instances.map((i) => i.id)).size).toBe(3);
    expect(body.connections).toBe(instances.reduce((sum, i) => sum + i.connections, 0));
    expect(body.connections).toBeGreaterThanOrEqual(sockets.length);
  });

  it('answers 200 random malformed bodies and parameters with 400 VALIDATION, never a 500', async () => {
    const random = seeded(adapter.length);
    // Nested at most 4 deep and well under the 100 KB body limit (past it the answer is 413).
    const junk = (depth = 0): unknown => {
      const pick = Math.floor(random() * (depth < 4 ? 8 : 3));
      if (pick === 0) return null;
      if (pick === 1) return random() * 1e6;
      if (pick === 2) return 'x'.repeat(Math.floor(random() * 5000));
      if (pick === 3) return [junk(depth + 1), junk(depth + 1)];
      if (pick === 4) return { userId: junk(depth + 1), type: junk(depth + 1) };
      if (pick === 5) return { userIds: [junk(depth + 1)], type: 'ok', data: junk(depth + 1) };
      if (pick === 6) return { text: junk(depth + 1), from: junk(depth + 1) };
      return { text: '', from: { id: '', name: 5 } };
    };
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const route =
        i % 3 === 0
          ? ['POST', '/api/notifications']
          : i % 3 === 1
            ? ['POST', '/api/rooms/lobby/messages']
            : ['POST', `/api/rooms/${encodeURIComponent('bad room!')}/messages`];
      const body = i % 10 === 9 ? '{"not json' : JSON.stringify(junk());
      const answer = await call(apps[i % 3], route[0], route[1], { body });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status !== 400)
        throw new Error(`${route.join(' ')} ${body.slice(0, 200)} → ${answer.status}`);
      expect(answer.body).toEqual({ code: 'VALIDATION', message: expect.any(String) });
    }
    expect([...statuses.keys()]).toEqual([400]);
  });
});

describe('without API_KEY', () => {
  it('every /api route is a 404', async () => {
    const app = await startApp();
    try {
      for (const [method, path] of [
        ['POST', '/api/notifications'],
        ['POST', '/api/rooms/lobby/messages'],
        ['GET', '/api/rooms/lobby'],
        ['DELETE', '/api/rooms/lobby/members/alice'],
        ['POST', '/api/users/alice/disconnect'],
        ['GET', '/api/stats'],
      ])
        expect([
          path,
          (await call(app, method, path, { body: method === 'GET' ? undefined : {} })).status,
        ]).toEqual([path, 404]);
    } finally {
      await app.close();
    }
  });
});

/** A small deterministic generator, so a failing body can be found again. */
function seeded(seed: number): () => number {
  let state = seed * 2654435761;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}
