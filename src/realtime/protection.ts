import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';
import type { HandshakeCheck, Refusal } from './engine-gate.js';
import { isAllowedOrigin } from './origin-policy.js';

/**
 * Cross-site WebSocket hijacking: a page on another site can open a WebSocket (or a polling
 * request) to this server with the user's cookies, and CORS never stops an upgrade. A request
 * with an `Origin` is let through only from `CORS_ORIGINS` or from this server's own origin
 * (the demo page); clients that send no `Origin` (servers, mobile apps) are not browsers.
 */
export function originCheck(allowed: readonly string[]): HandshakeCheck {
  return (req: IncomingMessage): Refusal | undefined => {
    const origin = req.headers.origin;
    if (origin === undefined || isAllowedOrigin(origin, allowed) || isSameOrigin(origin, req))
      return undefined;
    return {
      status: 403,
      code: 'FORBIDDEN',
      reason: 'origin_not_allowed',
      message: 'origin not allowed',
    };
  };
}

function isSameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Past `max` connections on this instance a new handshake gets 503, to be retried elsewhere. */
export function connectionCapCheck(server: Server, max: number): HandshakeCheck {
  return (): Refusal | undefined =>
    server.engine.clientsCount >= max
      ? {
          status: 503,
          code: 'UNAVAILABLE',
          reason: 'server_full',
          message: 'this instance is at its connection limit; retry',
          headers: { 'Retry-After': '5' },
        }
      : undefined;
}

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
