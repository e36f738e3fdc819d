/**
 * Rooms for real apps, on two instances joined through Redis: who may enter a room (dm:,
 * private: with the token's rooms claim, the app's own @RoomRule), a socket's operations in
 * the order it sent them on both transports, typing, presence state, paging back through
 * history, and a retried send after a lost ack.
 */
import { Injectable, Module } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import type { AuthUser } from '../src/auth/auth-user.js';
import { type RoomAccessRule, RoomRule } from '../src/chat/access/room-access-rule.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type JoinResult,
  type SendResult,
} from '../src/chat/chat.events.js';
import type { Ack } from '../src/gateway/ws-error.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';
import { ack } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';

/** Who the app's `club:` rule admits; a test withdraws a right while its socket is in. */
const clubMembers = new Set<string>();

@RoomRule('team:')
@Injectable()
class TeamRooms implements RoomAccessRule {
  async allows(user: AuthUser): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return user.id.startsWith('member-');
  }
}

@RoomRule('club:')
@Injectable()
class ClubRooms implements RoomAccessRule {
  allows(user: AuthUser): boolean {
    return clubMembers.has(user.id);
  }
}

@RoomRule('slow:')
@Injectable()
class SlowRooms implements RoomAccessRule {
  allows(): Promise<boolean> {
    return new Promise(() => undefined);
  }
}

@RoomRule('broken:')
@Injectable()
class BrokenRooms implements RoomAccessRule {
  allows(): Promise<boolean> {
    return Promise.reject(new Error('the member database is down'));
  }
}

@Module({ providers: [TeamRooms, ClubRooms, SlowRooms, BrokenRooms] })
class RoomRulesModule {}

type Transport = 'websocket' | 'polling';

let apps: TestApp[];

async function client(
  instance: number,
  sub: string,
  { rooms, transport = 'websocket' }: { rooms?: string[]; transport?: Transport } = {},
): Promise<Socket> {
  const app = apps[instance];
  return connectClient(app.url, CHAT_NAMESPACE, {
    transports: [transport],
    auth: { token: await app.token(sub, { name: sub, ...(rooms && { rooms }) }) },
  });
}

const codeOf = (result: Ack): string => (result.ok ? 'ok' : result.error.code);

async function send(socket: Socket, room: string, text: string, clientMsgId?: string) {
  return ack<SendResult>(socket, ChatEvent.MessageSend, { room, text, clientMsgId });
}

async function historyTexts(socket: Socket, room: string): Promise<string[]> {
  const page = await ack<{ messages: ChatMessage[] }>(socket, ChatEvent.RoomHistory, { room });
  if (!page.ok) throw new Error(page.error.code);
  return page.messages.map((m) => m.text);
}

beforeAll(async () => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  const redis = await startRedis();
  const env = {
    REDIS_URL: redis.url,
    REDIS_ADAPTER: 'pubsub',
    WS_RATE_LIMIT_PER_S: '10000',
    WS_RATE_LIMIT_BURST: '10000',
  };
  apps = [];
  for (let i = 0; i < 2; i++) apps.push(await startApp({ env, imports: [RoomRulesModule] }));
});
afterAll(async () => {
  closeAllClients();
  await Promise.all((apps ?? []).map((app) => app.close()));
  await stopAllRedis();
});
afterEach(() => closeAllClients());

describe('who may enter a room', () => {
  it.each(['websocket', 'polling'] as const)(
    'a dm room is for its two users: a third cannot join, read its history or send to it (%s)',
    async (transport) => {
      const room = `dm:alice-${transport}:bob`;
      const alice = await client(0, `alice-${transport}`, { transport });
      const bob = await client(1, 'bob', { transport });
      for (const socket of [alice, bob])
        expect(codeOf(await ack(socket, ChatEvent.RoomJoin, { room }))).toBe('ok');
      const bobGot = record<ChatMessage>(bob, ChatEvent.MessageNew);
      expect(codeOf(await send(alice, room, 'just us'))).toBe('ok');

      const carol = await client(1, 'carol', { transport, rooms: ['private:*', 'dm:*'] });
      const carolGot = record<ChatMessage>(carol, ChatEvent.MessageNew);
      expect(codeOf(await ack(carol, ChatEvent.RoomJoin, { room }))).toBe('FORBIDDEN');
      expect(codeOf(await ack(carol, ChatEvent.RoomJoin, { room, history: 10 }))).toBe('FORBIDDEN');
      expect(codeOf(await ack(carol, ChatEvent.RoomHistory, { room }))).toBe('FORBIDDEN');
      expect(codeOf(await send(carol, room, 'let me in'))).toBe('NOT_IN_ROOM');
      expect(codeOf(await ack(carol, ChatEvent.PresenceList, { room }))).toBe('NOT_IN_ROOM');

      expect(codeOf(await send(bob, room, 'fence'))).toBe('ok');
      await eventually(
        () => bobGot.length,
        (n) => n === 1,
        5000,
      );
      expect(await historyTexts(alice, room)).toEqual(['just us', 'fence']);
      expect(carolGot).toEqual([]);
    },
  );

  it('a rooms claim admits exactly the private rooms its patterns match', async () => {
    const expectations: [string[] | undefined, string, string][] = [
      [undefined, 'private:ops', 'FORBIDDEN'],
      [[], 'private:ops', 'FORBIDDEN'],
      [['private:ops'], 'private:ops', 'ok'],
      [['private:ops'], 'private:ops2', 'FORBIDDEN'],
      [['private:a*b'], 'private:a-to-b', 'ok'],
      [['private:a*b'], 'private:a', 'FORBIDDEN'],
      [['private:a*b'], 'private:ab-c', 'FORBIDDEN'],
      [['private:a*b'], 'private:xab', 'FORBIDDEN'],
      [['private:.*'], 'private:ops', 'FORBIDDEN'],
      [['*'], 'private:ops', 'FORBIDDEN'],
      [['private:*'], 'private:anything.at:all', 'ok'],
      [['private:*'], 'dm:someone:else', 'FORBIDDEN'],
    ];
    const results = [];
    for (const [i, [rooms, room]] of expectations.entries()) {
      const socket = await client(i % 2, `claim-${i}`, { rooms });
      results.push(codeOf(await ack(socket, ChatEvent.RoomJoin, { room })));
      socket.disconnect();
    }
    expect(results).toEqual(expectations.map(([, , expected]) => expected));
  });

  it("the app's own rules decide for their prefix; one that throws or never answers refuses, and the process carries on", async () => {
    const member = await client(0, 'member-1');
    const guest = await client(1, 'guest-1');
    expect(codeOf(await ack(member, ChatEvent.RoomJoin, { room: 'team:red' }))).toBe('ok');
    expect(codeOf(await ack(guest, ChatEvent.RoomJoin, { room: 'team:red' }))).toBe('FORBIDDEN');
    // Rooms outside every rule stay open to all.
    expect(codeOf(await ack(guest, ChatEvent.RoomJoin, { room: 'teamroom' }))).toBe('ok');

    const started = Date.now();
    const [slow, broken] = await Promise.all([
      ack(member, ChatEvent.RoomJoin, { room: 'slow:one' }),
      ack(member, ChatEvent.RoomJoin, { room: 'broken:one' }),
    ]);
    expect([codeOf(slow), codeOf(broken)]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(codeOf(await send(member, 'team:red', 'still here'))).toBe('ok');
  });

  it('a right withdrawn while the socket is in the room stops its sends and lists; nothing is delivered or stored', async () => {
    clubMembers.add('dan').add('erin');
    const dan = await client(0, 'dan');
    const erin = await client(1, 'erin');
    for (const socket of [dan, erin])
      expect(codeOf(await ack(socket, ChatEvent.RoomJoin, { room: 'club:chess' }))).toBe('ok');
    const erinGot = record<ChatMessage>(erin, ChatEvent.MessageNew);
    expect(codeOf(await send(dan, 'club:chess', 'before'))).toBe('ok');

    clubMembers.delete('dan');
    expect(codeOf(await send(dan, 'club:chess', 'after'))).toBe('FORBIDDEN');
    expect(codeOf(await ack(dan, ChatEvent.PresenceList, { room: 'club:chess' }))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await ack(dan, ChatEvent.RoomHistory, { room: 'club:chess' }))).toBe('FORBIDDEN');
    expect(codeOf(await send(erin, 'club:chess', 'fence'))).toBe('ok');
    expect(await historyTexts(erin, 'club:chess')).toEqual(['before', 'fence']);
    expect(erinGot.map((m) => m.text)).toEqual(['before']);
  });
});

describe("a socket's operations run in the order it sent them", () => {
  it.each(['websocket', 'polling'] as const)(
    'join, typing, list, send and history sent without waiting answer as if each ack was awaited (%s)',
    async (transport) => {
      const room = `pipelined-${transport}`;
      const watcher = await client(1, `watcher-${transport}`);
      expect(codeOf(await ack(watcher, ChatEvent.RoomJoin, { room }))).toBe('ok');
      const seen: string[] = [];
      watcher.onAny((event: string) => seen.push(event));

      const socket = await client(0, `piper-${transport}`, { transport });
      const order: string[] = [];
      const emit = <T extends object>(event: string, payload: unknown) =>
        (socket.timeout(5000).emitWithAck(event, payload) as Promise<Ack<T>>).then((result) => {
          order.push(event);
          return result;
        });
      // A packet in flight first: on polling, the five emitted next wait for it and then leave
      // together in one POST, so the server has them all before the join is done.
      const busy = emit(ChatEvent.TypingStop, { room: 'not-joined' });
      const [joined, typing, listed, sent, history] = await Promise.all([
        emit<JoinResult>(ChatEvent.RoomJoin, { room }),
        emit(ChatEvent.TypingStart, { room }),
        emit<{ users: { id: string }[] }>(ChatEvent.PresenceList, { room }),
        emit<SendResult>(ChatEvent.MessageSend, { room, text: 'first words' }),
        emit<{ messages: ChatMessage[] }>(ChatEvent.RoomHistory, { room }),
      ]);
      await busy;
      expect(order).toEqual([
        ChatEvent.TypingStop,
        ChatEvent.RoomJoin,
        ChatEvent.TypingStart,
        ChatEvent.PresenceList,
        ChatEvent.MessageSend,
        ChatEvent.RoomHistory,
      ]);
      expect(codeOf(joined)).toBe('ok');
      expect(codeOf(typing)).toBe('ok');
      expect(listed.ok && listed.users.map((u) => u.id).sort()).toEqual([
        `piper-${transport}`,
        `watcher-${transport}`,
      ]);
      expect(sent.ok && sent.offset).toBe(1);
      expect(history.ok && history.messages.map((m) => m.text)).toEqual(['first words']);
      await eventually(
        () => seen,
        (events) => events.includes(ChatEvent.MessageNew),
        5000,
      );
      expect(seen.filter((e) => e !== ChatEvent.Typing)).toEqual([
        ChatEvent.PresenceJoined,
        ChatEvent.MessageNew,
      ]);
    },
  );
});

describe('typing and presence state', () => {
  // Ending by itself when not renewed is TypingService's timer (typing.service.spec.ts): the
  // others hear it the way they hear a stop.
  it('typing reaches the other members on every instance, never the typist, once per state, and ends with a stop or a leave', async () => {
    const typist = await client(0, 'typist');
    const local = await client(0, 'near');
    const remote = await client(1, 'far');
    for (const socket of [typist, local, remote])
      expect(codeOf(await ack(socket, ChatEvent.RoomJoin, { room: 'typing' }))).toBe('ok');
    const own = record(typist, ChatEvent.Typing);
    const nearSaw = record(local, ChatEvent.Typing);

    const started = waitFor(remote, ChatEvent.Typing);
    expect(codeOf(await ack(typist, ChatEvent.TypingStart, { room: 'typing' }))).toBe('ok');
    expect(await started).toEqual({
      room: 'typing',
      user: { id: 'typist', name: 'typist' },
      typing: true,
    });
    // A renewal within the window is not sent again: the next change the others hear is the stop.
    expect(codeOf(await ack(typist, ChatEvent.TypingStart, { room: 'typing' }))).toBe('ok');
    const ended = waitFor<{ typing: boolean }>(remote, ChatEvent.Typing);
    expect(codeOf(await ack(typist, ChatEvent.TypingStop, { room: 'typing' }))).toBe('ok');
    expect((await ended).typing).toBe(false);
    await eventually(
      () => nearSaw.map((t) => (t as { typing: boolean }).typing),
      (states) => states.length === 2,
      2000,
    );
    expect(nearSaw.map((t) => (t as { typing: boolean }).typing)).toEqual([true, false]);
    expect(own).toEqual([]);

    // A typist who leaves stops typing for the others.
    expect(codeOf(await ack(typist, ChatEvent.TypingStart, { room: 'typing' }))).toBe('ok');
    await waitFor(remote, ChatEvent.Typing);
    const stopped = waitFor<{ typing: boolean }>(remote, ChatEvent.Typing);
    expect(codeOf(await ack(typist, ChatEvent.RoomLeave, { room: 'typing' }))).toBe('ok');
    expect((await stopped).typing).toBe(false);
    expect(codeOf(await ack(typist, ChatEvent.TypingStart, { room: 'typing' }))).toBe(
      'NOT_IN_ROOM',
    );
  });

  it('a status set with presence:update is announced, listed on every instance, and goes with the user', async () => {
    const setter = await client(0, 'statusy');
    const other = await client(1, 'lister');
    for (const socket of [setter, other])
      expect(codeOf(await ack(socket, ChatEvent.RoomJoin, { room: 'status' }))).toBe('ok');
    const updated = waitFor(other, ChatEvent.PresenceUpdated);
    const state = { status: 'in a call', emoji: '📞' };
    expect(await ack(setter, ChatEvent.PresenceUpdate, { room: 'status', state })).toEqual({
      ok: true,
    });
    expect(await updated).toEqual({
      room: 'status',
      user: { id: 'statusy', name: 'statusy' },
      state,
    });
    const listed = await ack<{ users: unknown[] }>(other, ChatEvent.PresenceList, {
      room: 'status',
    });
    expect(listed.ok && listed.users).toEqual(
      expect.arrayContaining([{ id: 'statusy', name: 'statusy', state }]),
    );

    // Over 256 bytes serialized (each emoji is 4 bytes in UTF-8), or not an object: VALIDATION.
    for (const bad of [{ s: '📞'.repeat(64) }, 'away', ['away'], null])
      expect(
        codeOf(await ack(setter, ChatEvent.PresenceUpdate, { room: 'status', state: bad })),
      ).toBe('VALIDATION');

    setter.disconnect();
    await waitFor(other, ChatEvent.PresenceLeft);
    const back = await client(1, 'statusy');
    expect(codeOf(await ack(back, ChatEvent.RoomJoin, { room: 'status' }))).toBe('ok');
    const relisted = await ack<{ users: unknown[] }>(other, ChatEvent.PresenceList, {
      room: 'status',
    });
    expect(relisted.ok && relisted.users).toEqual(
      expect.arrayContaining([{ id: 'statusy', name: 'statusy' }]),
    );
  });
});

describe('history and sends', () => {
  it('room:history pages back with before, oldest first within a page', async () => {
    const writer = await client(0, 'pager');
    expect(codeOf(await ack(writer, ChatEvent.RoomJoin, { room: 'paging' }))).toBe('ok');
    for (let i = 1; i <= 7; i++) expect(codeOf(await send(writer, 'paging', `m${i}`))).toBe('ok');
    const reader = await client(1, 'reader');
    const page = (before?: number) =>
      ack<{ messages: ChatMessage[] }>(reader, ChatEvent.RoomHistory, {
        room: 'paging',
        limit: 3,
        ...(before !== undefined && { before }),
      }).then((p) => (p.ok ? p.messages.map((m) => `${m.offset}:${m.text}`) : p.error.code));
    expect(await page()).toEqual(['5:m5', '6:m6', '7:m7']);
    expect(await page(5)).toEqual(['2:m2', '3:m3', '4:m4']);
    expect(await page(2)).toEqual(['1:m1']);
    expect(await page(1)).toEqual([]);
  });

  it('a send retried after its ack was lost, on another instance, gets the first ack and is delivered once', async () => {
    const reader = await client(1, 'retry-reader');
    expect(codeOf(await ack(reader, ChatEvent.RoomJoin, { room: 'retry' }))).toBe('ok');
    const got = record<ChatMessage>(reader, ChatEvent.MessageNew);
    const first = await client(0, 'retrier');
    expect(codeOf(await ack(first, ChatEvent.RoomJoin, { room: 'retry' }))).toBe('ok');
    // The message is stored and delivered; the client never sees the ack (its connection dies).
    first.emit(ChatEvent.MessageSend, { room: 'retry', text: 'once', clientMsgId: 'm-1' });
    await waitFor(reader, ChatEvent.MessageNew);
    first.disconnect();

    const again = await client(1, 'retrier');
    expect(codeOf(await ack(again, ChatEvent.RoomJoin, { room: 'retry' }))).toBe('ok');
    const retried = await send(again, 'retry', 'once', 'm-1');
    expect(retried).toMatchObject({ ok: true, id: got[0].id, offset: got[0].offset });
    // Another user's same clientMsgId is another message.
    expect(codeOf(await send(reader, 'retry', 'mine', 'm-1'))).toBe('ok');
    expect(await historyTexts(reader, 'retry')).toEqual(['once', 'mine']);
    expect(got.map((m) => m.text)).toEqual(['once']);
  });
});
