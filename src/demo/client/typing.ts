import type { TypingChange, UserRef } from '../../chat/chat.events.js';

/** Renewed well inside the server's 6 s window, so the others never see it lapse mid-word. */
const RENEW_MS = 3000;
/** A pause this long in typing counts as having stopped. */
const IDLE_MS = 4000;

/** Tells the room when this user types in its composer, and when they stop. */
export class TypingNotifier {
  private room: string | undefined;
  private startedAt = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly signal: (room: string, typing: boolean) => void) {}

  /** The composer of `room` changed; `empty` when it holds no text now. */
  typed(room: string | undefined, empty: boolean): void {
    if (room !== this.room) this.stop();
    if (room === undefined || empty) return this.stop();
    const now = Date.now();
    if (this.room === undefined || now - this.startedAt >= RENEW_MS) {
      this.signal(room, true);
      this.startedAt = now;
    }
    this.room = room;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  stop(): void {
    clearTimeout(this.idle);
    if (this.room !== undefined) this.signal(this.room, false);
    this.room = undefined;
  }
}

/**
 * Who is typing in each room, from `typing` events. The server ends a typing state that is
 * not renewed (and renewals are not sent again), so an entry lasts until its `typing: false`,
 * a message from that user, their leaving, or a lost connection.
 */
export class TypingBoard {
  private readonly rooms = new Map<string, Map<string, string>>();

  apply({ room, user, typing }: TypingChange): void {
    if (typing) this.usersIn(room).set(user.id, user.name);
    else this.clear(room, user);
  }

  clear(room: string, user: UserRef): void {
    this.rooms.get(room)?.delete(user.id);
  }

  clearAll(): void {
    this.rooms.clear();
  }

  /** "Bob is typing…", "Bob and Carol are typing…", or "" when nobody is. */
  line(room: string | undefined): string {
    const names = [...(room === undefined ? [] : this.usersIn(room).values())];
    if (names.length === 0) return '';
    if (names.length === 1) return `${names[0]} is typing…`;
    if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
    return 'Several people are typing…';
  }

  private usersIn(room: string): Map<string, string> {
    let users = this.rooms.get(room);
    if (!users) {
      users = new Map();
      this.rooms.set(room, users);
    }
    return users;
  }
}
