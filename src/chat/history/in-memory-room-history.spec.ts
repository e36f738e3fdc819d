import { InMemoryRoomHistory } from './in-memory-room-history.js';
import { DEDUPE_WINDOW_S, EMPTY_ROOM_TTL_S, type Published } from './room-history.js';

const TTL_S = 3600;

describe('InMemoryRoomHistory', () => {
  let now: number;
  let history: InMemoryRoomHistory;
  let n = 0;
  const message = (room: string, text = `t${++n}`) => ({
    id: `id-${n}`,
    room,
    from: { id: 'alice', name: 'Alice' },
    text,
    ts: now,
  });
  const texts = (page: { messages: readonly { text: string }[] }) =>
    page.messages.map((m) => m.text);

  beforeEach(() => {
    now = 1_000_000;
    history = new InMemoryRoomHistory(3, TTL_S, () => now);
  });
  afterEach(() => history.close());

  it('numbers each room from 1, keeps the last SIZE, and pages oldest first', async () => {
    for (const text of ['a', 'b', 'c', 'd', 'e']) await history.append(message('r', text), 's');
    await history.append(message('other', 'x'), 's');
    const latest = await history.latest('r', 10);
    expect(latest.head).toBe(5);
    expect(latest.messages.map((m) => `${m.offset}${m.text}`)).toEqual(['3c', '4d', '5e']);
    expect(texts(await history.latest('r', 2))).toEqual(['d', 'e']);
    expect(texts(await history.after('r', 3, 10))).toEqual(['d', 'e']);
    expect(texts(await history.before('r', 5, 10))).toEqual(['c', 'd']);
    expect((await history.latest('other', 10)).messages[0].offset).toBe(1);
  });

  it('hands every append to its listeners with the sender', async () => {
    const heard: Published[] = [];
    history.onPublished((published) => heard.push(published));
    await history.append(message('r', 'hi'), 'socket-1');
    expect(heard).toEqual([
      expect.objectContaining({
        sender: 'socket-1',
        message: expect.objectContaining({ text: 'hi', offset: 1 }),
      }),
    ]);
  });

  it('answers a repeated dedupe key with the first append, within the window only', async () => {
    const first = await history.append(message('r', 'once'), 's', 'alice\nm1');
    const again = await history.append(message('r', 'once'), 's', 'alice\nm1');
    expect(again).toEqual({ ...first, duplicate: true });
    expect(texts(await history.latest('r', 10))).toEqual(['once']);
    // The same key in another room is another message.
    expect((await history.append(message('r2', 'once'), 's', 'alice\nm1')).duplicate).toBe(false);
    now += DEDUPE_WINDOW_S * 1000 + 1;
    expect((await history.append(message('r', 'once'), 's', 'alice\nm1')).duplicate).toBe(false);
  });

  it('begins a new epoch, from offset 1, once a room was idle past the TTL', async () => {
    await history.append(message('r'), 's');
    const { epoch } = await history.latest('r', 1);
    now += (TTL_S - 1) * 1000;
    expect((await history.latest('r', 1)).epoch).toBe(epoch);
    now += TTL_S * 1000 + 1;
    const page = await history.latest('r', 1);
    expect(page.epoch).not.toBe(epoch);
    expect(page).toMatchObject({ head: 0, messages: [] });
  });

  it('forgets a room that was only read after the shorter empty-room TTL', async () => {
    const { epoch } = await history.latest('read-only', 1);
    now += EMPTY_ROOM_TTL_S * 1000 + 1;
    expect((await history.latest('read-only', 1)).epoch).not.toBe(epoch);
  });
});
