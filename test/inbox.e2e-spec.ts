/**
 * The notifications inbox: kept while the user is offline, an unread count on connect and
 * on every change to every socket of the user on every instance, pages newest first, a size
 * cap, and clear answers to bad payloads. In memory on one instance, and in Redis on several
 * (a standalone Redis, and a Redis Cluster where a user's keys share one slot).
 */
import type { Socket } from 'socket.io-client';
import type { InboxItem } from '../src/notifications/notifications.events.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type UnreadCount,
} from '../src/notifications/notifications.events.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { TestApp } from './support/app-harness.js';
import { closeAllClients, createClient, record, waitFor } from './support/clients.js';
import { ack, startInstances } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, startRedisCluster, stopAllRedis } from './support/redis.js';

const INBOX_SIZE = 5;

/** The count a client shows: the one with the highest version. */
const newest = (counts: readonly UnreadCount[]): UnreadCount | undefined =>
  counts.reduce<UnreadCount | undefined>((a, b) => (a && a.version > b.version ? a : b), undefined);

interface Topology {
  readonly label: string;
  readonly instances: number;
  readonly redis?: 'standalone' | 'cluster';
}

const topologies: Topology[] = [
  { label: 'one instance, in memory', instances: 1 },
  { label: 'three instances, Redis', instances: 3, redis: 'standalone' },
  { label: 'two instances, Redis Cluster', instances: 2, redis: 'cluster' },
];

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterAll(() => stopAllRedis());

describe.each(topologies)('the inbox, $label', ({ instances, redis }) => {
  let apps: TestApp[];
  let user = 0;
  const newUser = () => `inbox-user-${++user}`;
  const on = (i: number): TestApp => apps[i % apps.length];
  const notify = (i: number, userId: string, type: string, data: unknown = null) =>
    on(i).app.get(NotificationsService).notifyUser(userId, type, data);

  /** Connects as `userId`; resolves with the socket and the unread count it was told. */
  async function inboxClient(
    i: number,
    userId: string,
  ): Promise<{ socket: Socket; count: number }> {
    const socket = createClient(on(i).url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await on(i).token(userId) },
    });
    const first = await waitFor<UnreadCount>(socket, NotificationEvent.InboxUnread);
    return { socket, count: first.count };
  }

  const list = async (socket: Socket, payload: object = {}) => {
    const result = await ack<{ notifications: InboxItem[] }>(
      socket,
      NotificationEvent.InboxList,
      payload,
    );
    if (!result.ok) throw new Error(result.error.code);
    return result.notifications;
  };

  beforeAll(async () => {
    let redisUrl: string | undefined;
    if (redis === 'standalone') redisUrl = (await startRedis()).url;
    if (redis === 'cluster') redisUrl = (await startRedisCluster()).url;
    const env: Record<string, string> = { INBOX_SIZE: String(INBOX_SIZE) };
    if (redisUrl)
      Object.assign(env, {
        REDIS_URL: redisUrl,
        REDIS_ADAPTER: redis === 'cluster' ? 'sharded' : 'pubsub',
      });
    apps = await startInstances(instances, env);
  });
  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.close()));
  });
  afterEach(() => closeAllClients());

  it('a user offline while 3 notifications are sent sees count 3 and the 3, newest first, on connect', async () => {
    const alice = newUser();
    for (const [i, type] of ['first', 'second', 'third'].entries())
      await notify(i, alice, type, { n: i });
    const { socket, count } = await inboxClient(instances - 1, alice);
    expect(count).toBe(3);
    const items = await list(socket);
    expect(items.map((n) => [n.type, n.data, n.read])).toEqual([
      ['third', { n: 2 }, false],
      ['second', { n: 1 }, false],
      ['first', { n: 0 }, false],
    ]);
    // Another user's inbox is their own.
    expect((await inboxClient(0, newUser())).count).toBe(0);
  });

  it('reading on one socket updates the count on every socket of the user, on every instance', async () => {
    const bob = newUser();
    const phone = await inboxClient(0, bob);
    const laptop = await inboxClient(instances - 1, bob);
    const counts = record<UnreadCount>(laptop.socket, NotificationEvent.InboxUnread);
    const phoneCounts = record<UnreadCount>(phone.socket, NotificationEvent.InboxUnread);
    const live = record(laptop.socket, NotificationEvent.Notification);
    for (const type of ['a', 'b', 'c']) await notify(1, bob, type);
    await eventually(
      () => newest(counts)?.count,
      (count) => count === 3,
      5000,
    );
    expect(live).toHaveLength(3);

    const [latest] = await list(phone.socket, { limit: 1 });
    expect(await ack(phone.socket, NotificationEvent.InboxRead, { ids: [latest.id] })).toEqual({
      ok: true,
      unread: 2,
    });
    await eventually(
      () => newest(counts)?.count,
      (count) => count === 2,
      5000,
    );
    expect((await list(laptop.socket)).map((n) => [n.type, n.read])).toEqual([
      ['c', true],
      ['b', false],
      ['a', false],
    ]);
    expect(await ack(laptop.socket, NotificationEvent.InboxRead, { all: true })).toEqual({
      ok: true,
      unread: 0,
    });
    await eventually(
      () => newest(phoneCounts)?.count,
      (count) => count === 0,
      5000,
    );
    await eventually(
      () => phoneCounts.length,
      (n) => n === 5,
      5000,
    );
    // Counts from two instances may arrive crossed; by version they tell the story in order.
    const byVersion = [...phoneCounts].sort((a, b) => a.version - b.version);
    expect(byVersion.map((c) => c.count)).toEqual([1, 2, 3, 2, 0]);
    expect(new Set(byVersion.map((c) => c.version)).size).toBe(5);
    // Unknown ids change nothing.
    expect(await ack(phone.socket, NotificationEvent.InboxRead, { ids: ['nope'] })).toEqual({
      ok: true,
      unread: 0,
    });
  });

  it(`keeps the newest ${INBOX_SIZE}: the oldest go first, and pages go back with before`, async () => {
    const carol = newUser();
    for (let i = 1; i <= INBOX_SIZE + 2; i++) await notify(i, carol, `n${i}`);
    const { socket, count } = await inboxClient(0, carol);
    expect(count).toBe(INBOX_SIZE);
    const firstPage = await list(socket, { limit: 2 });
    expect(firstPage.map((n) => n.type)).toEqual(['n7', 'n6']);
    const rest = await list(socket, { before: firstPage[1].id, limit: 10 });
    expect(rest.map((n) => n.type)).toEqual(['n5', 'n4', 'n3']);
  });

  it('a bad inbox payload gets VALIDATION and changes nothing', async () => {
    const dave = newUser();
    await notify(0, dave, 'kept');
    const { socket } = await inboxClient(0, dave);
    const bad: [string, unknown][] = [
      [NotificationEvent.InboxList, { limit: 0 }],
      [NotificationEvent.InboxList, { limit: 101 }],
      [NotificationEvent.InboxList, { before: 42 }],
      [NotificationEvent.InboxList, 'all'],
      [NotificationEvent.InboxRead, {}],
      [NotificationEvent.InboxRead, { all: false }],
      [NotificationEvent.InboxRead, { ids: [] }],
      [NotificationEvent.InboxRead, { ids: 'x' }],
      [NotificationEvent.InboxRead, { ids: [{}] }],
      [NotificationEvent.InboxRead, { ids: Array.from({ length: 101 }, (_, i) => `id${i}`) }],
      [NotificationEvent.InboxRead, null],
    ];
    for (const [event, payload] of bad)
      expect([event, await ack(socket, event, payload)]).toEqual([
        event,
        { ok: false, error: { code: 'VALIDATION', message: expect.any(String) } },
      ]);
    expect((await list(socket)).map((n) => [n.type, n.read])).toEqual([['kept', false]]);
  });
});
