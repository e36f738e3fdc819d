import { jest } from '@jest/globals';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { InMemoryRoomHistory } from './in-memory-room-history.js';
import { HEAL_AFTER_MS, RoomDelivery } from './room-delivery.js';
import type { Published, RoomHistory, StoredMessage } from './room-history.js';

/** The in-memory history, with a feed that loses the offsets listed in `lost`. */
function lossyHistory(lost: Set<number>): RoomHistory & { close(): void } {
  const history = new InMemoryRoomHistory(100, 3600);
  return Object.assign(Object.create(history) as InMemoryRoomHistory, {
    onPublished(listener: (published: Published) => void) {
      history.onPublished((published) => {
        if (!lost.has(published.message.offset)) listener(published);
      });
    },
  });
}

/** Just enough of a namespace: what reaches the room's sockets, in order. */
function fakeNamespace(room: string, socketId: string) {
  const delivered: number[] = [];
  const emit = (_event: string, message: StoredMessage) => void delivered.push(message.offset);
  const namespace = {
    local: { to: () => ({ except: () => ({ emit }), emit }) },
    adapter: { rooms: new Map([[room, new Set([socketId])]]) },
  };
  return { namespace: namespace as unknown as Socket['nsp'], delivered };
}

describe('RoomDelivery', () => {
  const logger = { warn: jest.fn() } as unknown as Logger;
  const socket = { id: 's1', connected: true } as unknown as Socket;
  const message = (text: string) => ({
    id: text,
    room: 'r',
    from: { id: 'a', name: 'A' },
    text,
    ts: 0,
  });

  afterEach(() => jest.useRealTimers());

  /** A RoomDelivery on `history` with one socket joined to room `r`: what reaches it. */
  async function followed(history: RoomHistory): Promise<number[]> {
    const delivery = new RoomDelivery(history, 100, logger);
    const { namespace, delivered } = fakeNamespace('r', 's1');
    delivery.bind(namespace);
    delivery.beginJoin(socket, 'r');
    delivery.completeJoin(socket, 'r', await history.latest('r', 0));
    await jest.advanceTimersByTimeAsync(0);
    return delivered;
  }

  it('holds a message that came early and, when the one before never comes, reads it from history', async () => {
    jest.useFakeTimers();
    const history = lossyHistory(new Set([2]));
    const delivered = await followed(history);

    for (const text of ['one', 'two', 'three']) await history.append(message(text), 'elsewhere');
    expect(delivered).toEqual([1]);
    await jest.advanceTimersByTimeAsync(HEAL_AFTER_MS - 1);
    expect(delivered).toEqual([1]);
    await jest.advanceTimersByTimeAsync(1);
    expect(delivered).toEqual([1, 2, 3]);
    history.close();
  });

  it('delivers what follows a gap the history no longer has, rather than waiting for ever', async () => {
    jest.useFakeTimers();
    const history = lossyHistory(new Set([2]));
    const reads = jest.spyOn(history, 'after').mockResolvedValue({
      epoch: (await history.latest('r', 0)).epoch,
      head: 3,
      messages: [],
    });
    const delivered = await followed(history);

    for (const text of ['one', 'two', 'three']) await history.append(message(text), 'elsewhere');
    await jest.advanceTimersByTimeAsync(HEAL_AFTER_MS);
    expect(reads).toHaveBeenCalledWith('r', 1, 100);
    expect(delivered).toEqual([1, 3]);
    history.close();
  });
});
