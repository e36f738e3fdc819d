import type { UserRef } from '../chat.events.js';
import { InMemoryPresenceStore } from './in-memory-presence.store.js';

const alice: UserRef = { id: 'alice', name: 'Alice' };
const bob: UserRef = { id: 'bob', name: 'Bob' };

describe('InMemoryPresenceStore', () => {
  let store: InMemoryPresenceStore;

  beforeEach(() => {
    store = new InMemoryPresenceStore();
  });

  it("a user's first socket in a room makes them present", async () => {
    expect(await store.join('lobby', alice, 'a1')).toBe(true);
  });

  it("a user's second socket in the same room changes nothing", async () => {
    await store.join('lobby', alice, 'a1');
    expect(await store.join('lobby', alice, 'a2')).toBe(false);
  });

  it('the same socket joining twice changes nothing', async () => {
    await store.join('lobby', alice, 'a1');
    expect(await store.join('lobby', alice, 'a1')).toBe(false);
  });

  it('presence is per room', async () => {
    await store.join('lobby', alice, 'a1');
    expect(await store.join('games', alice, 'a1')).toBe(true);
  });

  it('a user stays present until their last socket leaves', async () => {
    await store.join('lobby', alice, 'a1');
    await store.join('lobby', alice, 'a2');
    expect(await store.leave('lobby', alice, 'a1')).toBe(false);
    expect(await store.list('lobby')).toEqual([alice]);
    expect(await store.leave('lobby', alice, 'a2')).toBe(true);
    expect(await store.list('lobby')).toEqual([]);
  });

  it('lists each present user once, with their name', async () => {
    await store.join('lobby', alice, 'a1');
    await store.join('lobby', alice, 'a2');
    await store.join('lobby', bob, 'b1');
    await store.join('games', bob, 'b1');
    expect(await store.list('lobby')).toEqual(expect.arrayContaining([alice, bob]));
    expect(await store.list('lobby')).toHaveLength(2);
    expect(await store.list('games')).toEqual([bob]);
    expect(await store.list('empty')).toEqual([]);
  });

  it('leaving with an unknown socket, user or room changes nothing', async () => {
    await store.join('lobby', alice, 'a1');
    expect(await store.leave('lobby', alice, 'unknown')).toBe(false);
    expect(await store.leave('lobby', bob, 'a1')).toBe(false);
    expect(await store.leave('nowhere', alice, 'a1')).toBe(false);
    expect(await store.list('lobby')).toEqual([alice]);
  });

  it('leaving twice announces the departure once', async () => {
    await store.join('lobby', alice, 'a1');
    expect(await store.leave('lobby', alice, 'a1')).toBe(true);
    expect(await store.leave('lobby', alice, 'a1')).toBe(false);
  });

  it('forgets a room once everyone has left, so a rejoin is a first join again', async () => {
    await store.join('lobby', alice, 'a1');
    await store.join('lobby', bob, 'b1');
    await store.leave('lobby', alice, 'a1');
    await store.leave('lobby', bob, 'b1');
    const rooms = (store as unknown as { rooms: Map<string, unknown> }).rooms;
    expect(rooms.size).toBe(0);
    expect(await store.join('lobby', alice, 'a1')).toBe(true);
  });
});
