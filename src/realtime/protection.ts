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

/** Engine.io connections per user on this instance; one connection may carry several namespaces. */
export class UserConnectionCap {
  private readonly byUser = new Map<string, Set<Conn>>();

  constructor(private readonly max: number) {}

  /** True when this connection may join: it is already counted, or the user is under the cap. */
  admits(userId: string, conn: Conn): boolean {
    const conns = this.byUser.get(userId);
    return !conns || conns.has(conn) || conns.size < this.max;
  }

  add(userId: string, conn: Conn): void {
    let conns = this.byUser.get(userId);
    if (!conns) {
      conns = new Set();
      this.byUser.set(userId, conns);
    }
    if (conns.has(conn)) return;
    conns.add(conn);
    // `close` fires once per connection: `on`, without `once`'s per-call wrapper.
    conn.on('close', () => {
      conns.delete(conn);
      if (conns.size === 0 && this.byUser.get(userId) === conns) this.byUser.delete(userId);
    });
  }
}
