/**
 * Room and user lifecycle events (`@OnEvent('room.occupied')` …) on three instances joined
 * through Redis: each transition once for the whole cluster, also when members on every
 * instance join and leave in a race, and when an instance goes away with its users (handed
 * to the others).
 */
import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { Socket } from 'socket.io-client';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { LifecycleEvent, type LifecyclePayload } from '../src/events/lifecycle-events.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient } from './support/clients.js';
import { ack } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';

/** Every event any instance published, as `name subject`. */
const seen: string[] = [];

@Injectable()
class Recorder {
  @OnEvent(LifecycleEvent.RoomOccupied)
  @OnEvent(LifecycleEvent.RoomVacated)
  @OnEvent(LifecycleEvent.UserOnline)
  @OnEvent(LifecycleEvent.UserOffline)
  record({ name, room, userId }: LifecyclePayload): void {
    seen.push(`${name} ${room ?? userId}`);
  }
}

@Module({ providers: [Recorder] })
class RecorderModule {}

const count = (line: string): number => seen.filter((entry) => entry === line).length;

let apps: TestApp[];

async function chatAs(i: number, userId: string): Promise<Socket> {
  return connectClient(apps[i].url, CHAT_NAMESPACE, {
    auth: { token: await apps[i].token(userId) },
  });
}

beforeAll(async () => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  const redis = await startRedis();
  apps = [];
  for (let i = 0; i < 3; i++)
    apps.push(
      await startApp({
        env: {
          REDIS_URL: redis.url,
          WS_RATE_LIMIT_PER_S: '1000',
          WS_RATE_LIMIT_BURST: '1000',
          // A stopped instance's users are reaped TTL/4 to TTL/2 after it goes.
          PRESENCE_TTL_S: '5',
        },
        imports: [RecorderModule],
      }),
    );
});
afterAll(async () => {
  closeAllClients();
  await Promise.all((apps ?? []).map((app) => app.close()));
  await stopAllRedis();
});

it('each room is occupied and vacated once per change, with members of three instances racing', async () => {
  const rooms = Array.from({ length: 10 }, (_, i) => `race-${i}`);
  const sockets = await Promise.all(
    [0, 1, 2, 0, 1, 2].map((instance, i) => chatAs(instance, `racer-${i}`)),
  );
  for (let round = 1; round <= 3; round++) {
    await Promise.all(
      sockets.flatMap((socket) => rooms.map((room) => ack(socket, ChatEvent.RoomJoin, { room }))),
    );
    await eventually(
      () => rooms.every((room) => count(`room.occupied ${room}`) === round),
      (all) => all,
      5000,
    );
    await Promise.all(
      sockets.flatMap((socket) => rooms.map((room) => ack(socket, ChatEvent.RoomLeave, { room }))),
    );
    await eventually(
      () => rooms.every((room) => count(`room.vacated ${room}`) === round),
      (all) => all,
      5000,
    );
  }
  // Nothing late: each room's events alternate, three of each.
  for (const room of rooms) {
    const mine = seen.filter((line) => line.endsWith(` ${room}`));
    expect(mine).toEqual(
      Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0 ? `room.occupied ${room}` : `room.vacated ${room}`,
      ),
    );
  }
});

it('a user is online from their first connection on any instance to their last', async () => {
  const [first, second] = await Promise.all([chatAs(0, 'wanderer'), chatAs(2, 'wanderer')]);
  await eventually(
    () => count('user.online wanderer'),
    (n) => n === 1,
    5000,
  );
  first.disconnect();
  const third = await chatAs(1, 'wanderer');
  second.disconnect();
  third.disconnect();
  await eventually(
    () => count('user.offline wanderer'),
    (n) => n === 1,
    5000,
  );
  expect(count('user.online wanderer')).toBe(1);
  // The events of one user come in order: online, then offline.
  expect(seen.filter((line) => line.endsWith(' wanderer'))).toEqual([
    'user.online wanderer',
    'user.offline wanderer',
  ]);
});

it('an instance that goes away hands its users over: one back elsewhere never goes offline, one gone goes offline once, its room vacated', async () => {
  const leaving = apps[2];
  const passenger = await chatAs(2, 'passenger');
  expect(await ack(passenger, ChatEvent.RoomJoin, { room: 'train' })).toMatchObject({ ok: true });
  const commuter = await chatAs(2, 'commuter');
  expect(await ack(commuter, ChatEvent.RoomJoin, { room: 'tram' })).toMatchObject({ ok: true });
  const staying = await chatAs(0, 'conductor');
  expect(await ack(staying, ChatEvent.RoomJoin, { room: 'platform' })).toMatchObject({ ok: true });
  await eventually(
    () => [count('user.online passenger'), count('user.online commuter')],
    (counts) => counts.every((n) => n === 1),
    5000,
  );

  await leaving.close();
  apps = apps.slice(0, 2);
  // Back on another instance only once the leaving one is gone, as a slow client would be.
  const back = await chatAs(0, 'commuter');
  expect(await ack(back, ChatEvent.RoomJoin, { room: 'tram' })).toMatchObject({ ok: true });
  // Another instance reaps what the leaving one handed over: the passenger is gone ...
  await eventually(
    () => [count('user.offline passenger'), count('room.vacated train')],
    ([offline, vacated]) => offline === 1 && vacated === 1,
    10_000,
  );
  // ... and the commuter's share went in the same reap, unannounced: they never left.
  expect(
    [
      'user.offline commuter',
      'room.vacated tram',
      'user.offline conductor',
      'room.vacated platform',
    ].map(count),
  ).toEqual([0, 0, 0, 0]);
  expect([count('user.online commuter'), count('room.occupied tram')]).toEqual([1, 1]);
});
