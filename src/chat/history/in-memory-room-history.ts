import type {
  Appended,
  HistoryPage,
  NewMessage,
  Published,
  RoomHistory,
  StoredMessage,
} from './room-history.js';
import { DEDUPE_WINDOW_S, EMPTY_ROOM_TTL_S } from './room-history.js';
import { newEpoch } from './new-epoch.js';

interface Room {
  readonly epoch: string;
  head: number;
  readonly messages: StoredMessage[];
  touchedAt: number;
}

/** How often idle rooms and old `clientMsgId`s are swept. */
const SWEEP_MS = 60_000;

/** One instance's history, in memory: each room's last `size` messages for `ttlS`. */
export class InMemoryRoomHistory implements RoomHistory {
  private readonly rooms = new Map<string, Room>();
  private readonly sent = new Map<string, { appended: Appended; until: number }>();
  private readonly listeners: ((published: Published) => void)[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly size: number,
    private readonly ttlS: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  append(message: NewMessage, sender: string, dedupe?: string): Promise<Appended> {
    const key = dedupe && `${message.room}\n${dedupe}`;
    const earlier = key ? this.sent.get(key) : undefined;
    if (earlier && earlier.until > this.now())
      return Promise.resolve({ ...earlier.appended, duplicate: true });
    const room = this.room(message.room);
    // Only a new message keeps a room alive, as in Redis, where it renews the keys' TTL.
    room.touchedAt = this.now();
    const stored: StoredMessage = { ...message, offset: ++room.head };
    room.messages.push(stored);
    if (room.messages.length > this.size) room.messages.shift();
    const appended: Appended = { epoch: room.epoch, message: stored, duplicate: false };
    if (key) this.sent.set(key, { appended, until: this.now() + DEDUPE_WINDOW_S * 1000 });
    for (const listener of this.listeners) listener({ epoch: room.epoch, sender, message: stored });
    return Promise.resolve(appended);
  }

  latest(name: string, limit: number): Promise<HistoryPage> {
    const room = this.room(name);
    return Promise.resolve(this.page(room, room.messages.slice(-limit)));
  }

  after(name: string, offset: number, limit: number): Promise<HistoryPage> {
    const room = this.room(name);
    const messages = room.messages.filter((m) => m.offset > offset).slice(0, limit);
    return Promise.resolve(this.page(room, messages));
  }

  before(name: string, offset: number, limit: number): Promise<HistoryPage> {
    const room = this.room(name);
    const messages = room.messages.filter((m) => m.offset < offset).slice(-limit);
    return Promise.resolve(this.page(room, messages));
  }

  onPublished(listener: (published: Published) => void): void {
    this.listeners.push(listener);
  }

  /** One process has no feed to lose. */
  onFeedRestored(): void {}

  close(): void {
    clearInterval(this.sweeper);
  }

  private page(room: Room, messages: readonly StoredMessage[]): HistoryPage {
    return { epoch: room.epoch, head: room.head, messages };
  }

  /** The room, under a new epoch when it was idle past the TTL (as Redis would expire it). */
  private room(name: string): Room {
    const now = this.now();
    let room = this.rooms.get(name);
    if (!room || this.expired(room, now)) {
      room = { epoch: newEpoch(), head: 0, messages: [], touchedAt: now };
      this.rooms.set(name, room);
    }
    return room;
  }

  /** Idle past the TTL; a room never written to, past the shorter empty-room TTL. */
  private expired(room: Room, now: number): boolean {
    const ttlS = room.head === 0 ? Math.min(this.ttlS, EMPTY_ROOM_TTL_S) : this.ttlS;
    return now - room.touchedAt > ttlS * 1000;
  }

  private sweep(): void {
    const now = this.now();
    for (const [name, room] of this.rooms) if (this.expired(room, now)) this.rooms.delete(name);
    for (const [key, entry] of this.sent) if (entry.until <= now) this.sent.delete(key);
  }
}
