import type { Socket } from 'socket.io-client';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type PresenceChange,
  type UserRef,
} from '../src/chat/chat.events.js';
import { MAX_ROOMS_PER_SOCKET } from '../src/chat/chat.service.js';
import type { Ack, Failure } from '../src/gateway/ws-error.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';

let server: TestApp;

beforeAll(async () => {
  // The rate limit has its own test; here it must not get in the way of bursts of joins.
  server = await startApp({ env: { WS_RATE_LIMIT_PER_S: '10000', WS_RATE_LIMIT_BURST: '10000' } });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => closeAllClients());

async function chatClient(sub: string, name = sub.toUpperCase()): Promise<Socket> {
  return connectClient(server.url, CHAT_NAMESPACE, {
    auth: { token: await server.token(sub, { name }) },
  });
}

function send<T extends object = object>(
  socket: Socket,
  event: string,
  payload: unknown,
): Promise<Ack<T>> {
  return socket.timeout(5000).emitWithAck(event, payload) as Promise<Ack<T>>;
}

async function joined(socket: Socket, room: string): Promise<void> {
  expect(await send(socket, ChatEvent.RoomJoin, { room })).toMatchObject({ ok: true, room });
}

describe('/chat rooms and messages', () => {
  it('a message reaches every other socket in the room, never the sender, and not other rooms', async () => {
    const [alice, bob, carol, dave] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave'].map((u) => chatClient(u)),
    );
    await Promise.all([alice, bob, carol].map((s) => joined(s, 'lobby')));
    await joined(dave, 'elsewhere');
    const aliceGot = record<ChatMessage>(alice, ChatEvent.MessageNew);
    const daveGot = record<ChatMessage>(dave, ChatEvent.MessageNew);

    const bobReceives = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    const carolReceives = waitFor<ChatMessage>(carol, ChatEvent.MessageNew);
    const ack = await send<{ id: string; ts: number; offset: number }>(
      alice,
      ChatEvent.MessageSend,
      {
        room: 'lobby',
        text: 'hello',
      },
    );
    expect(ack).toEqual({
      ok: true,
      id: expect.any(String),
      ts: expect.any(Number),
      offset: expect.any(Number),
    });
    if (!ack.ok) throw new Error('unreachable');

    const expected: ChatMessage = {
      id: ack.id,
      room: 'lobby',
      from: { id: 'alice', name: 'ALICE' },
      text: 'hello',
      ts: ack.ts,
      offset: ack.offset,
    };
    expect(await bobReceives).toEqual(expected);
    expect(await carolReceives).toEqual(expected);

    // A later message from someone else is a barrier: anything sent to alice or dave
    // before it would have arrived first.
    await joined(dave, 'lobby');
    const barrier = waitFor<ChatMessage>(alice, ChatEvent.MessageNew);
    await send(bob, ChatEvent.MessageSend, { room: 'lobby', text: 'barrier' });
    expect((await barrier).text).toBe('barrier');
    expect(aliceGot.map((m) => m.text)).toEqual(['barrier']);
    expect(daveGot.map((m) => m.text)).toEqual(['barrier']);
  });

  it('ids are unique and sort in sending order', async () => {
    const alice = await chatClient('alice');
    await joined(alice, 'ids');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const ack = await send<{ id: string }>(alice, ChatEvent.MessageSend, {
        room: 'ids',
        text: `m${i}`,
      });
      if (!ack.ok) throw new Error(ack.error.message);
      ids.push(ack.id);
    }
    expect(new Set(ids).size).toBe(50);
    expect([...ids].sort()).toEqual(ids);
  });

  it('sending to a room not joined answers NOT_IN_ROOM, and so do leave and presence:list', async () => {
    const alice = await chatClient('alice');
    for (const [event, payload] of [
      [ChatEvent.MessageSend, { room: 'nowhere', text: 'hi' }],
      [ChatEvent.RoomLeave, { room: 'nowhere' }],
      [ChatEvent.PresenceList, { room: 'nowhere' }],
    ] as const) {
      const ack = await send(alice, event, payload);
      expect(ack).toEqual({
        ok: false,
        error: { code: 'NOT_IN_ROOM', message: expect.any(String) },
      });
    }
  });

  it('after room:leave the socket no longer receives the room', async () => {
    const [alice, bob] = await Promise.all([chatClient('alice'), chatClient('bob')]);
    await Promise.all([joined(alice, 'a'), joined(bob, 'a'), joined(bob, 'b')]);
    expect(await send(bob, ChatEvent.RoomLeave, { room: 'a' })).toEqual({ ok: true, room: 'a' });
    const bobGot = record<ChatMessage>(bob, ChatEvent.MessageNew);
    await send(alice, ChatEvent.MessageSend, { room: 'a', text: 'after leave' });
    await joined(alice, 'b');
    const barrier = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    await send(alice, ChatEvent.MessageSend, { room: 'b', text: 'barrier' });
    await barrier;
    expect(bobGot.map((m) => m.text)).toEqual(['barrier']);
    expect(await send(bob, ChatEvent.MessageSend, { room: 'a', text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_IN_ROOM' },
    });
  });

  it('rooms starting with user: are reserved (FORBIDDEN)', async () => {
    const alice = await chatClient('alice');
    expect(await send(alice, ChatEvent.RoomJoin, { room: 'user:bob' })).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: expect.stringContaining('reserved') },
    });
  });

  it(`a socket is in at most ${MAX_ROOMS_PER_SOCKET} rooms; joining the same room twice is harmless`, async () => {
    const alice = await chatClient('alice');
    for (let i = 0; i < MAX_ROOMS_PER_SOCKET; i++) await joined(alice, `room-${i}`);
    await joined(alice, 'room-0');
    expect(await send(alice, ChatEvent.RoomJoin, { room: 'one-too-many' })).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: expect.stringContaining(String(MAX_ROOMS_PER_SOCKET)) },
    });
    await send(alice, ChatEvent.RoomLeave, { room: 'room-7' });
    await joined(alice, 'one-too-many');
  });
});

describe('/chat presence', () => {
  it("presence:joined when a user's first socket joins, presence:left when the last one leaves", async () => {
    const watcher = await chatClient('watcher');
    await joined(watcher, 'p');
    const joinedEvents = record<PresenceChange>(watcher, ChatEvent.PresenceJoined);
    const leftEvents = record<PresenceChange>(watcher, ChatEvent.PresenceLeft);
    const bob: UserRef = { id: 'bob', name: 'BOB' };

    const bobTab1 = await chatClient('bob');
    const firstJoin = waitFor<PresenceChange>(watcher, ChatEvent.PresenceJoined);
    await joined(bobTab1, 'p');
    expect(await firstJoin).toEqual({ room: 'p', user: bob });

    const bobTab2 = await chatClient('bob');
    await joined(bobTab2, 'p');
    expect(
      await send<{ users: UserRef[] }>(watcher, ChatEvent.PresenceList, { room: 'p' }),
    ).toEqual({
      ok: true,
      users: expect.arrayContaining([{ id: 'watcher', name: 'WATCHER' }, bob]),
    });

    bobTab1.disconnect();
    // Bob still has a socket in the room: his second tab's message arrives with no left event first.
    const barrier = waitFor<ChatMessage>(watcher, ChatEvent.MessageNew);
    await send(bobTab2, ChatEvent.MessageSend, { room: 'p', text: 'still here' });
    await barrier;
    expect(leftEvents).toEqual([]);

    const lastLeave = waitFor<PresenceChange>(watcher, ChatEvent.PresenceLeft);
    bobTab2.disconnect();
    expect(await lastLeave).toEqual({ room: 'p', user: bob });
    expect(joinedEvents).toEqual([{ room: 'p', user: bob }]);
    expect(await send(watcher, ChatEvent.PresenceList, { room: 'p' })).toEqual({
      ok: true,
      users: [{ id: 'watcher', name: 'WATCHER' }],
    });
  });

  it('room:leave of the last socket announces presence:left', async () => {
    const [watcher, bob] = await Promise.all([chatClient('watcher'), chatClient('bob')]);
    await Promise.all([joined(watcher, 'q'), joined(bob, 'q')]);
    const left = waitFor<PresenceChange>(watcher, ChatEvent.PresenceLeft);
    await send(bob, ChatEvent.RoomLeave, { room: 'q' });
    expect(await left).toEqual({ room: 'q', user: { id: 'bob', name: 'BOB' } });
  });
});

describe('/chat bad input', () => {
  const badPayloads: [string, string, unknown][] = [
    ['no payload', ChatEvent.RoomJoin, undefined],
    ['a number', ChatEvent.RoomJoin, 42],
    ['a string', ChatEvent.MessageSend, 'hello'],
    ['null', ChatEvent.MessageSend, null],
    ['an array', ChatEvent.RoomJoin, ['lobby']],
    ['room of the wrong type', ChatEvent.RoomJoin, { room: 12 }],
    ['empty room name', ChatEvent.RoomJoin, { room: '' }],
    ['room name too long', ChatEvent.RoomJoin, { room: 'r'.repeat(65) }],
    ['room name with a space', ChatEvent.RoomJoin, { room: 'two words' }],
    ['room name with a slash', ChatEvent.RoomJoin, { room: '../etc' }],
    ['text missing', ChatEvent.MessageSend, { room: 'lobby' }],
    ['empty text', ChatEvent.MessageSend, { room: 'lobby', text: '' }],
    ['text too long', ChatEvent.MessageSend, { room: 'lobby', text: 'x'.repeat(4001) }],
    ['text as an object', ChatEvent.MessageSend, { room: 'lobby', text: { toString: 'x' } }],
    ['binary payload', ChatEvent.MessageSend, Buffer.from('binary')],
    ['binary text', ChatEvent.MessageSend, { room: 'lobby', text: Buffer.from('binary') }],
    ['deeply nested junk', ChatEvent.PresenceList, { room: { a: { b: { c: [1, 2, 3] } } } }],
  ];

  it.each(badPayloads)('%s gets a VALIDATION ack', async (_label, event, payload) => {
    const alice = await chatClient('alice');
    await joined(alice, 'lobby');
    const ack = await send(alice, event, payload);
    expect(ack).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.any(String) } });
  });

  it('an unknown event gets a VALIDATION ack', async () => {
    const alice = await chatClient('alice');
    expect(await send(alice, 'admin:delete-everything', {})).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: 'Unknown event' },
    });
  });

  it('a failing event sent without an ack is answered on the exception event', async () => {
    const alice = await chatClient('alice');
    const exception = waitFor<Failure>(alice, ChatEvent.Exception);
    alice.emit(ChatEvent.MessageSend, { room: 'not-joined', text: 'x' });
    expect(await exception).toEqual({
      ok: false,
      error: { code: 'NOT_IN_ROOM', message: expect.any(String) },
    });
    const invalid = waitFor<Failure>(alice, ChatEvent.Exception);
    alice.emit(ChatEvent.RoomJoin, 'not an object');
    expect(await invalid).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: expect.any(String) },
    });
  });

  it('a bystander keeps receiving while another socket sends garbage of every shape', async () => {
    const [mallory, alice, bob] = await Promise.all([
      chatClient('mallory'),
      chatClient('alice'),
      chatClient('bob'),
    ]);
    await Promise.all([joined(mallory, 'lobby'), joined(alice, 'lobby'), joined(bob, 'lobby')]);
    const bobGot = record<ChatMessage>(bob, ChatEvent.MessageNew);
    const garbage = badPayloads.map(([, event, payload]) => send(mallory, event, payload));
    const sent = [];
    for (let i = 0; i < 10; i++)
      sent.push(send(alice, ChatEvent.MessageSend, { room: 'lobby', text: `ok ${i}` }));
    const acks = await Promise.all([...garbage, ...sent]);
    expect(acks.slice(0, badPayloads.length).every((ack) => !ack.ok)).toBe(true);
    expect(acks.slice(badPayloads.length).every((ack) => ack.ok)).toBe(true);
    const barrier = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    await send(mallory, ChatEvent.MessageSend, { room: 'lobby', text: 'done' });
    await barrier;
    expect(bobGot.map((m) => m.text)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `ok ${i}`),
      'done',
    ]);
    expect(mallory.connected).toBe(true);
  });
});
