import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import type { AuthUser } from '../auth/auth-user.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { WsError } from '../gateway/ws-error.js';
import { CHAT_NAMESPACE, ChatEvent, type UserRef } from './chat.events.js';
import { ChatService, type ChatSocket, MAX_ROOMS_PER_SOCKET, ONLINE } from './chat.service.js';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store.js';
import { LifecyclePublisher } from '../events/lifecycle-publisher.js';
import { RoomAccess } from './access/room-access.js';
import { ROOM_HISTORY } from './history/room-history.js';
import { PRESENCE_STORE, type PresenceStore } from './presence/presence.store.js';
import { LocalTypingFeed, TYPING_FEED } from './typing/typing-feed.js';
import { TypingService } from './typing/typing.service.js';

const alice: AuthUser = { id: 'alice', name: 'Alice', expiresAt: 4_102_444_800_000 };
const bob: AuthUser = { id: 'bob', name: 'Bob', expiresAt: 4_102_444_800_000 };
const ref = ({ id, name }: AuthUser): UserRef => ({ id, name });

/** The namespace adapter's socket ids, as socket.io keeps them (`nsp.adapter.sids`). */
const sids = new Map<string, Set<string>>();

/** Just enough of a socket.io socket: its id room, join/leave, and `to(room).emit`. */
function fakeSocket(id: string, user: AuthUser) {
  const rooms = new Set([id]);
  sids.set(id, rooms);
  const emitters = new Map<string, jest.Mock>();
  const emitterOf = (room: string): jest.Mock => {
    const emit = emitters.get(room) ?? jest.fn();
    emitters.set(room, emit);
    return emit;
  };
  const socket = {
    id,
    data: { user },
    rooms,
    join: jest.fn((room: string) => {
      rooms.add(room);
      return Promise.resolve();
    }),
    leave: jest.fn((room: string) => {
      rooms.delete(room);
      return Promise.resolve();
    }),
    to: jest.fn((room: string) => ({ emit: emitterOf(room) })),
    nsp: { adapter: { sids } },
    connected: true,
  };
  return {
    socket,
    asChat: socket as unknown as ChatSocket,
    /** Everything emitted through `socket.to(room)`, as [event, payload] pairs. */
    sentTo: (room: string): unknown[][] => emitters.get(room)?.mock.calls ?? [],
  };
}

async function wsErrorOf(action: () => unknown): Promise<WsError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof WsError) return error;
    throw error;
  }
  throw new Error('expected a WsError');
}

describe('ChatService', () => {
  let chat: ChatService;
  let metrics: MetricsService;
  let logger: { error: jest.Mock; warn: jest.Mock };

  async function setup(presence: PresenceStore = new InMemoryPresenceStore()): Promise<void> {
    logger = { error: jest.fn(), warn: jest.fn() };
    const moduleRef = await Test.createTestingModule({
      providers: [
        ChatService,
        MetricsService,
        { provide: PRESENCE_STORE, useValue: presence },
        { provide: ROOM_HISTORY, useValue: null },
        { provide: RoomAccess, useValue: { mayEnter: () => Promise.resolve(true) } },
        TypingService,
        { provide: TYPING_FEED, useClass: LocalTypingFeed },
        { provide: LifecyclePublisher, useValue: { publish: () => undefined } },
        { provide: APP_LOGGER, useValue: logger },
      ],
    }).compile();
    chat = moduleRef.get(ChatService);
    metrics = moduleRef.get(MetricsService);
  }

  beforeEach(() => setup());

  describe('joining a room', () => {
    it("refuses another socket's id room, and its own, as FORBIDDEN", async () => {
      const a = fakeSocket('a1', alice);
      fakeSocket('victim-socket-id', bob);
      expect((await wsErrorOf(() => chat.join(a.asChat, { room: 'victim-socket-id' }))).code).toBe(
        'FORBIDDEN',
      );
      expect((await wsErrorOf(() => chat.join(a.asChat, { room: 'a1' }))).code).toBe('FORBIDDEN');
      expect(a.socket.join).not.toHaveBeenCalled();
    });

    it('leaves the room again when the presence store fails, so a retry records presence', async () => {
      const failing: PresenceStore = {
        join: () => Promise.reject(new Error('redis down')),
        leave: () => Promise.resolve(false),
        list: () => Promise.resolve([]),
        setState: () => Promise.resolve(false),
        onRoomChange: () => undefined,
      };
      await setup(failing);
      const a = fakeSocket('a1', alice);
      await expect(chat.join(a.asChat, { room: 'lobby' })).rejects.toThrow('redis down');
      expect(a.socket.rooms.has('lobby')).toBe(false);
    });

    it('puts the socket in the room and acks with the room', async () => {
      const a = fakeSocket('a1', alice);
      expect(await chat.join(a.asChat, { room: 'lobby' })).toEqual({ ok: true, room: 'lobby' });
      expect(a.socket.rooms.has('lobby')).toBe(true);
    });

    it('refuses rooms starting with user: as FORBIDDEN', async () => {
      const a = fakeSocket('a1', alice);
      const error = await wsErrorOf(() => chat.join(a.asChat, { room: 'user:bob' }));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toContain('user:');
      expect(a.socket.join).not.toHaveBeenCalled();
    });

    it(`allows ${MAX_ROOMS_PER_SOCKET} rooms per socket and refuses one more as FORBIDDEN`, async () => {
      const a = fakeSocket('a1', alice);
      for (let i = 0; i < MAX_ROOMS_PER_SOCKET; i++)
        await chat.join(a.asChat, { room: `room-${i}` });
      const error = await wsErrorOf(() => chat.join(a.asChat, { room: 'one-too-many' }));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toContain(String(MAX_ROOMS_PER_SOCKET));
      expect(a.socket.rooms.has('one-too-many')).toBe(false);
    });

    it('at the cap, joining a room the socket is already in still succeeds', async () => {
      const a = fakeSocket('a1', alice);
      for (let i = 0; i < MAX_ROOMS_PER_SOCKET; i++)
        await chat.join(a.asChat, { room: `room-${i}` });
      expect(await chat.join(a.asChat, { room: 'room-0' })).toEqual({ ok: true, room: 'room-0' });
    });

    it('is idempotent: joining twice joins once and announces once', async () => {
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      expect(await chat.join(a.asChat, { room: 'lobby' })).toEqual({ ok: true, room: 'lobby' });
      expect(a.socket.join).toHaveBeenCalledTimes(1);
      expect(a.sentTo('lobby')).toHaveLength(1);
    });

    it("announces presence:joined to the room on the user's first socket only", async () => {
      const first = fakeSocket('a1', alice);
      const second = fakeSocket('a2', alice);
      await chat.join(first.asChat, { room: 'lobby' });
      await chat.join(second.asChat, { room: 'lobby' });
      expect(first.sentTo('lobby')).toEqual([
        [ChatEvent.PresenceJoined, { room: 'lobby', user: ref(alice) }],
      ]);
      expect(second.sentTo('lobby')).toEqual([]);
    });
  });

  describe('sending a message', () => {
    it('is refused with NOT_IN_ROOM before joining', async () => {
      const a = fakeSocket('a1', alice);
      const error = await wsErrorOf(() => chat.send(a.asChat, { room: 'lobby', text: 'hi' }));
      expect(error.code).toBe('NOT_IN_ROOM');
      expect(a.socket.to).not.toHaveBeenCalled();
    });

    it("is refused with NOT_IN_ROOM for the socket's own id room", async () => {
      const a = fakeSocket('a1', alice);
      const error = await wsErrorOf(() => chat.send(a.asChat, { room: 'a1', text: 'hi' }));
      expect(error.code).toBe('NOT_IN_ROOM');
    });

    it('acks with an id and server time, and sends message:new to the rest of the room', async () => {
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      const before = Date.now();
      const ack = await chat.send(a.asChat, { room: 'lobby', text: 'hello' });
      const after = Date.now();
      if (!ack.ok) throw new Error('expected the send to succeed');
      expect(ack.ts).toBeGreaterThanOrEqual(before);
      expect(ack.ts).toBeLessThanOrEqual(after);
      expect(ack.id).toEqual(expect.any(String));
      expect(a.sentTo('lobby').at(-1)).toEqual([
        ChatEvent.MessageNew,
        { id: ack.id, room: 'lobby', from: ref(alice), text: 'hello', ts: ack.ts },
      ]);
    });

    it('gives ids that are unique and sort in sending order', async () => {
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const ack = await chat.send(a.asChat, { room: 'lobby', text: `m${i}` });
        ids.push(ack.ok ? ack.id : '');
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(ids);
    });

    it('counts each message:new emitted', async () => {
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      await chat.send(a.asChat, { room: 'lobby', text: 'one' });
      await chat.send(a.asChat, { room: 'lobby', text: 'two' });
      const text = await metrics.registry.getSingleMetricAsString('ws_events_emitted_total');
      expect(text).toContain(
        `ws_events_emitted_total{namespace="${CHAT_NAMESPACE}",event="${ChatEvent.MessageNew}"} 2`,
      );
    });
  });

  describe('leaving a room', () => {
    it('is refused with NOT_IN_ROOM when the socket is not in it', async () => {
      const a = fakeSocket('a1', alice);
      expect((await wsErrorOf(() => chat.leave(a.asChat, 'lobby'))).code).toBe('NOT_IN_ROOM');
      expect(a.socket.leave).not.toHaveBeenCalled();
    });

    it("announces presence:left when the user's last socket leaves", async () => {
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      expect(await chat.leave(a.asChat, 'lobby')).toEqual({ ok: true, room: 'lobby' });
      expect(a.socket.rooms.has('lobby')).toBe(false);
      expect(a.sentTo('lobby').at(-1)).toEqual([
        ChatEvent.PresenceLeft,
        { room: 'lobby', user: ref(alice) },
      ]);
    });

    it('says nothing while another socket of the same user is still in the room', async () => {
      const first = fakeSocket('a1', alice);
      const second = fakeSocket('a2', alice);
      await chat.join(first.asChat, { room: 'lobby' });
      await chat.join(second.asChat, { room: 'lobby' });
      await chat.leave(second.asChat, 'lobby');
      expect(second.sentTo('lobby')).toEqual([]);
    });
  });

  describe('listing presence', () => {
    it('is refused with NOT_IN_ROOM when the socket is not in the room', async () => {
      const a = fakeSocket('a1', alice);
      expect((await wsErrorOf(() => chat.list(a.asChat, 'lobby'))).code).toBe('NOT_IN_ROOM');
    });

    it('lists every user present once, with id and name only', async () => {
      const a1 = fakeSocket('a1', alice);
      const a2 = fakeSocket('a2', alice);
      const b = fakeSocket('b1', bob);
      for (const s of [a1, a2, b]) await chat.join(s.asChat, { room: 'lobby' });
      const ack = await chat.list(a1.asChat, 'lobby');
      if (!ack.ok) throw new Error('expected the list to succeed');
      expect(ack.users).toHaveLength(2);
      expect(ack.users).toEqual(expect.arrayContaining([ref(alice), ref(bob)]));
    });
  });

  describe('leaveAll, while a socket disconnects', () => {
    it("announces presence:left in every room where the user is gone, skipping the socket's id room", async () => {
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      await chat.join(a.asChat, { room: 'games' });
      await chat.leaveAll(a.asChat);
      for (const room of ['lobby', 'games']) {
        expect(a.sentTo(room).at(-1)).toEqual([ChatEvent.PresenceLeft, { room, user: ref(alice) }]);
      }
      expect(a.socket.to).not.toHaveBeenCalledWith('a1');
    });

    it('stays quiet in rooms where another socket of the user remains', async () => {
      const leaving = fakeSocket('a1', alice);
      const staying = fakeSocket('a2', alice);
      await chat.join(leaving.asChat, { room: 'lobby' });
      await chat.join(leaving.asChat, { room: 'games' });
      await chat.join(staying.asChat, { room: 'games' });
      await chat.leaveAll(leaving.asChat);
      expect(leaving.sentTo('lobby').at(-1)?.[0]).toBe(ChatEvent.PresenceLeft);
      expect(leaving.sentTo('games').map(([event]) => event)).toEqual([ChatEvent.PresenceJoined]);
      const ack = await chat.list(staying.asChat, 'games');
      expect(ack.ok && ack.users).toEqual([ref(alice)]);
    });

    it('never asks the presence store about the id room', async () => {
      const store = new InMemoryPresenceStore();
      const leave = jest.spyOn(store, 'leave');
      await setup(store);
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      await chat.leaveAll(a.asChat);
      expect(leave.mock.calls.map(([room]) => room).filter((room) => room !== ONLINE)).toEqual([
        'lobby',
      ]);
    });

    it('logs a failing presence store instead of throwing', async () => {
      const failure = new Error('redis down');
      const store: PresenceStore = {
        join: () => Promise.resolve(true),
        leave: () => Promise.reject(failure),
        list: () => Promise.resolve([]),
        setState: () => Promise.resolve(false),
        onRoomChange: () => undefined,
      };
      await setup(store);
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      await chat.join(a.asChat, { room: 'games' });
      await expect(chat.leaveAll(a.asChat)).resolves.toBeUndefined();
      // One line for the socket's rooms, not one per room (and one for its online count).
      expect(logger.warn).toHaveBeenCalledTimes(2);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ socketId: 'a1', failed: 2 }),
        expect.any(String),
      );
    });

    it('only undoes the rooms the socket was counted in', async () => {
      const leaves: string[] = [];
      const store: PresenceStore = {
        join: (room) =>
          room === 'broken' ? Promise.reject(new Error('down')) : Promise.resolve(true),
        leave: (room) => {
          leaves.push(room);
          return Promise.resolve(true);
        },
        list: () => Promise.resolve([]),
        setState: () => Promise.resolve(false),
        onRoomChange: () => undefined,
      };
      await setup(store);
      const a = fakeSocket('a1', alice);
      await chat.join(a.asChat, { room: 'lobby' });
      await expect(chat.join(a.asChat, { room: 'broken' })).rejects.toThrow('down');
      await chat.leaveAll(a.asChat);
      expect(leaves.filter((room) => room !== ONLINE)).toEqual(['lobby']);
    });

    it('a socket that disconnected while its join was counted is uncounted at once', async () => {
      let release: (first: boolean) => void = () => undefined;
      let counting: () => void = () => undefined;
      const countStarted = new Promise<void>((resolve) => (counting = resolve));
      const leaves: string[] = [];
      const store: PresenceStore = {
        join: () =>
          new Promise<boolean>((resolve) => {
            release = resolve;
            counting();
          }),
        leave: (room) => {
          leaves.push(room);
          return Promise.resolve(true);
        },
        list: () => Promise.resolve([]),
        setState: () => Promise.resolve(false),
        onRoomChange: () => undefined,
      };
      await setup(store);
      const a = fakeSocket('a1', alice);
      const joining = chat.join(a.asChat, { room: 'lobby' });
      await countStarted;
      await chat.leaveAll(a.asChat);
      a.socket.connected = false;
      release(true);
      await joining;
      expect(leaves.filter((room) => room !== ONLINE)).toEqual(['lobby']);
    });
  });
});
