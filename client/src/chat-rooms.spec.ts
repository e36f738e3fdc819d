import { ChatRooms } from './chat-rooms.js';
import type { ChatSocket } from './connect.js';
import type { Ack, ChatMessage, JoinResult } from './contract.js';

type Answer = (payload: Record<string, unknown>) => Ack | Promise<Ack>;

/** A `/chat` socket with no server: scripted acks per event, and events pushed by the test. */
class FakeSocket {
  connected = false;
  active = false;
  readonly sent: [string, Record<string, unknown>][] = [];
  private readonly handlers = new Map<string, Set<(...args: unknown[]) => void>>();
  private readonly answers = new Map<string, Answer[]>();

  answer(event: string, ...answers: Answer[]): void {
    this.answers.set(event, [...(this.answers.get(event) ?? []), ...answers]);
  }

  on(event: string, handler: (...args: unknown[]) => void): this {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(handler);
    return this;
  }

  off(event: string, handler: (...args: unknown[]) => void): this {
    this.handlers.get(event)?.delete(handler);
    return this;
  }

  push(event: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }

  connect(): void {
    this.connected = true;
    this.active = true;
    this.push('connect');
  }

  async emitWithAck(event: string, payload: Record<string, unknown>): Promise<Ack> {
    this.sent.push([event, payload]);
    const answer = this.answers.get(event)?.shift();
    if (answer === undefined) throw new Error(`no answer scripted for ${event}`);
    return answer(payload);
  }

  listeners(): number {
    return [...this.handlers.values()].reduce((sum, set) => sum + set.size, 0);
  }
}

const message = (offset: number, room = 'lobby'): ChatMessage => ({
  id: `id-${offset}`,
  room,
  from: { id: 'bob', name: 'Bob' },
  text: `m${offset}`,
  ts: offset,
  offset,
});
const joined =
  (offset: number, messages: ChatMessage[] = [], recovered?: boolean): Answer =>
  (payload) =>
    ({
      ok: true,
      room: payload.room as string,
      offset,
      epoch: 'e1',
      messages,
      ...(recovered === undefined ? {} : { recovered }),
    }) as Ack<JoinResult>;
const refused =
  (code: 'FORBIDDEN' | 'NOT_IN_ROOM' | 'INTERNAL'): Answer =>
  () => ({ ok: false, error: { code, message: code.toLowerCase() } });
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setUp() {
  const socket = new FakeSocket();
  const shown: string[] = [];
  const closed: string[] = [];
  const draining: number[] = [];
  const rooms = new ChatRooms(socket as unknown as ChatSocket, {
    joined: (room, messages, gap) =>
      shown.push(`${room} joined${gap ? ' (gap)' : ''}: ${messages.map((m) => m.text).join(',')}`),
    message: (m) => shown.push(m.text),
    closed: (room, why) => closed.push(`${room}: ${why.code}`),
    draining: (ms) => draining.push(ms),
  });
  return { socket, rooms, shown, closed, draining };
}

describe('ChatRooms', () => {
  it('joins every open room again on each connection with `since`, and hands on each message once, in order', async () => {
    const { socket, rooms, shown } = setUp();
    socket.connect();
    socket.answer('room:join', joined(2, [message(1), message(2)]));
    expect((await rooms.open('lobby')).ok).toBe(true);
    socket.push('message:new', message(3));
    socket.push('message:new', message(3));

    socket.connected = false;
    socket.answer('room:join', joined(5, [message(3), message(4), message(5)], true));
    socket.connect();
    await settle();
    socket.push('message:new', message(5));
    socket.push('message:new', message(6));

    expect(socket.sent.map(([, payload]) => payload)).toEqual([
      { room: 'lobby', history: 50 },
      { room: 'lobby', since: { offset: 3, epoch: 'e1' } },
    ]);
    expect(shown).toEqual(['lobby joined: m1,m2', 'm3', 'lobby joined: m4,m5', 'm6']);
  });

  it('says when a resume could not fill the gap (recovered: false)', async () => {
    const { socket, rooms, shown } = setUp();
    socket.connect();
    socket.answer('room:join', joined(1, [message(1)]), joined(90, [message(90)], false));
    await rooms.open('lobby');
    socket.connect();
    await settle();
    expect(shown).toEqual(['lobby joined: m1', 'lobby joined (gap): m90']);
  });

  it('closes a room the server no longer admits after a reconnection, and one it removed', async () => {
    const { socket, rooms, closed } = setUp();
    socket.connect();
    socket.answer('room:join', joined(0), joined(0), refused('FORBIDDEN'));
    await rooms.open('lobby');
    await rooms.open('team');
    socket.push('room:removed', { room: 'lobby', reason: 'removed by the service API' });
    socket.connect();
    await settle();
    expect(closed).toEqual(['lobby: REMOVED', 'team: FORBIDDEN']);
    expect(rooms.rooms()).toEqual([]);
  });

  it('does not keep a room whose first join was refused', async () => {
    const { socket, rooms } = setUp();
    socket.connect();
    socket.answer('room:join', refused('FORBIDDEN'));
    expect(await rooms.open('private:x')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(rooms.rooms()).toEqual([]);
  });

  it('sends with one clientMsgId through every attempt: a send refused before the re-join goes again once the room is joined', async () => {
    const { socket, rooms } = setUp();
    socket.connect();
    socket.answer('room:join', joined(0));
    await rooms.open('lobby');
    // The reconnection's re-join is in flight when the send (retried by socket.io) arrives.
    let rejoin: (ack: Ack) => void = () => undefined;
    socket.answer('room:join', () => new Promise((resolve) => (rejoin = resolve)));
    socket.connect();
    socket.answer('message:send', refused('NOT_IN_ROOM'), () => ({
      ok: true,
      id: 'server-id',
      ts: 1,
      offset: 1,
    }));
    const sending = rooms.send('lobby', 'hello');
    await settle();
    rejoin({ ok: true, room: 'lobby', offset: 0, epoch: 'e1', messages: [] } as Ack);
    const answer = await sending;

    expect(answer).toMatchObject({ ok: true, id: 'server-id' });
    const sends = socket.sent.filter(([event]) => event === 'message:send');
    expect(sends).toHaveLength(2);
    expect(sends[0][1].clientMsgId).toBe(answer.clientMsgId);
    expect(sends[1][1].clientMsgId).toBe(answer.clientMsgId);
    // Its own message, in a later resume page, is not handed on again.
    socket.answer('room:join', joined(1, [{ ...message(1), id: 'server-id' }], true));
    socket.connect();
    await settle();
  });

  it('answers NOT_CONNECTED at once when the socket will not reconnect, TIMEOUT for a lost ack, and CLOSED for what is in flight on close()', async () => {
    const { socket, rooms } = setUp();
    expect(await rooms.send('lobby', 'x')).toMatchObject({ ok: false, code: 'NOT_CONNECTED' });
    socket.connect();
    socket.answer('message:send', () => Promise.reject(new Error('operation has timed out')));
    expect(await rooms.send('lobby', 'x')).toMatchObject({ ok: false, code: 'TIMEOUT' });
    socket.answer('message:send', () => new Promise<Ack>(() => undefined));
    const pending = rooms.send('lobby', 'x', 'my-id');
    rooms.close();
    expect(await pending).toEqual({
      ok: false,
      code: 'CLOSED',
      message: 'the connection was closed before an answer',
      clientMsgId: 'my-id',
    });
    expect(socket.listeners()).toBe(0);
  });

  it('tells the app when the instance drains', () => {
    const { socket, draining } = setUp();
    socket.push('server:draining', { reconnectInMs: 1200 });
    expect(draining).toEqual([1200]);
  });
});
