import { FIRST_PAGE, RoomResume } from './room-resume.js';

// The chat event types, as the client module sees them (the demo server imports no feature).
type ChatMessage = Parameters<RoomResume['accept']>[0];
type JoinResult = Parameters<RoomResume['joined']>[1];

const message = (offset: number, room = 'lobby'): ChatMessage => ({
  id: `id-${room}-${offset}`,
  room,
  from: { id: 'a', name: 'A' },
  text: `m${offset}`,
  ts: offset,
  offset,
});
const ack = (offset: number, epoch: string, messages: ChatMessage[] = []): JoinResult => ({
  room: 'lobby',
  offset,
  epoch,
  messages,
});
const offsets = (messages: ChatMessage[]) => messages.map((m) => m.offset);

describe('RoomResume', () => {
  it('asks for a first page, then for what came after the last offset seen', () => {
    const rooms = new RoomResume();
    expect(rooms.joinPayload('lobby')).toEqual({ room: 'lobby', history: FIRST_PAGE });
    expect(offsets(rooms.joined('lobby', ack(2, 'e1', [message(1), message(2)])))).toEqual([1, 2]);
    expect(offsets(rooms.accept(message(3)))).toEqual([3]);
    expect(rooms.joinPayload('lobby')).toEqual({
      room: 'lobby',
      since: { offset: 3, epoch: 'e1' },
    });
    expect(rooms.rooms()).toEqual(['lobby']);
  });

  it('holds live messages while a join is in flight and merges them with its page, in order, once', () => {
    const rooms = new RoomResume();
    rooms.joinPayload('lobby');
    rooms.joined('lobby', ack(3, 'e1', [message(3)]));
    rooms.joinPayload('lobby');
    // Arrived before the join's answer was handled (a recovered socket, or one polling response).
    expect(rooms.accept(message(6))).toEqual([]);
    expect(rooms.accept(message(7))).toEqual([]);
    const shown = rooms.joined('lobby', ack(6, 'e1', [message(4), message(5), message(6)]));
    expect(offsets(shown)).toEqual([4, 5, 6, 7]);
    expect(rooms.accept(message(7))).toEqual([]);
    expect(offsets(rooms.accept(message(8)))).toEqual([8]);
  });

  it('drops what was already shown, by offset and by id', () => {
    const rooms = new RoomResume();
    rooms.joinPayload('lobby');
    rooms.joined('lobby', ack(2, 'e1', [message(1), message(2)]));
    expect(rooms.accept(message(2))).toEqual([]);
    const noOffset = { ...message(9, 'lobby'), offset: undefined };
    expect(rooms.accept(noOffset)).toEqual([noOffset]);
    expect(rooms.accept(noOffset)).toEqual([]);
  });

  it('drops from a resume page the messages this client sent and showed already', () => {
    const rooms = new RoomResume();
    rooms.joinPayload('lobby');
    rooms.joined('lobby', ack(1, 'e1', [message(1)]));
    rooms.sent('lobby', message(2).id);
    rooms.joinPayload('lobby');
    const shown = rooms.joined('lobby', ack(3, 'e1', [message(2), message(3)]));
    expect(offsets(shown)).toEqual([3]);
  });

  it('starts again from the page when the epoch changed (history lost on the server)', () => {
    const rooms = new RoomResume();
    rooms.joinPayload('lobby');
    rooms.joined('lobby', ack(40, 'e1', [message(40)]));
    rooms.joinPayload('lobby');
    const shown = rooms.joined('lobby', { ...ack(1, 'e2', [message(1)]), recovered: false });
    expect(offsets(shown)).toEqual([1]);
    expect(rooms.position('lobby')).toEqual({ offset: 1, epoch: 'e2' });
  });

  it('hands on what was held when the join fails, and passes other rooms through', () => {
    const rooms = new RoomResume();
    rooms.joinPayload('lobby');
    expect(rooms.accept(message(1))).toEqual([]);
    expect(offsets(rooms.joinFailed('lobby'))).toEqual([1]);
    expect(offsets(rooms.accept(message(5, 'elsewhere')))).toEqual([5]);
  });
});
