import type { Socket } from 'socket.io';

type Conn = Socket['conn'];

/**
 * Engine.io connections per user on this instance; one connection may carry several
 * namespaces. Most users hold one connection: that one is stored as it is, and a set is
 * made only for a second (no set, no listener per connection).
 */
export class UserConnectionCap {
  private readonly byUser = new Map<string, Conn | Set<Conn>>();

  constructor(private readonly max: number) {}

  /** True when this connection may join: it is already counted, or the user is under the cap. */
  admits(userId: string, conn: Conn): boolean {
    const held = this.byUser.get(userId);
    if (held === undefined || held === conn) return true;
    if (!(held instanceof Set)) return this.max > 1;
    return held.has(conn) || held.size < this.max;
  }

  /** Counts `conn` for `userId` (once, however many namespaces it joins). */
  add(userId: string, conn: Conn): void {
    const held = this.byUser.get(userId);
    if (held === undefined) this.byUser.set(userId, conn);
    else if (held instanceof Set) held.add(conn);
    else if (held !== conn) this.byUser.set(userId, new Set([held, conn]));
  }

  /** Call when the last socket on `conn` is gone. */
  remove(userId: string, conn: Conn): void {
    const held = this.byUser.get(userId);
    if (held === conn) this.byUser.delete(userId);
    else if (held instanceof Set && held.delete(conn) && held.size === 0)
      this.byUser.delete(userId);
  }
}
