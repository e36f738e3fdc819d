import type { IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';
import type { AuthFailureReason } from '../../auth/auth-error.js';
import type { HandshakeAuthenticator } from '../../auth/handshake-authenticator.js';
import type { ReadinessService } from '../../health/readiness.service.js';
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
    return ORIGIN_REFUSAL;
  };
}

export const ORIGIN_REFUSAL: Refusal = {
  status: 403,
  code: 'FORBIDDEN',
  reason: 'origin_not_allowed',
  message: 'origin not allowed',
};

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
    server.engine.clientsCount >= max ? SERVER_FULL_REFUSAL : undefined;
}

export const SERVER_FULL_REFUSAL: Refusal = {
  status: 503,
  code: 'UNAVAILABLE',
  reason: 'server_full',
  message: 'this instance is at its connection limit; retry',
  headers: { 'Retry-After': '5' },
};

export const DRAINING_REFUSAL: Refusal = {
  status: 503,
  code: 'UNAVAILABLE',
  reason: 'draining',
  message: 'this instance is shutting down; retry',
  headers: { 'Retry-After': '1' },
};

/** A draining instance's answer to a session it does not hold: retry where it is. */
export const FOREIGN_SESSION_REFUSAL: Refusal = {
  ...DRAINING_REFUSAL,
  reason: 'draining_foreign_session',
  message: 'this instance is shutting down and does not hold this session; retry',
};

/** While the instance drains, a new handshake gets 503, to be retried elsewhere. */
export function drainingCheck(readiness: ReadinessService): HandshakeCheck {
  return () => (readiness.current === 'draining' ? DRAINING_REFUSAL : undefined);
}

/** A token carried by the HTTP request (header, query, subprotocol) that does not verify: 401. */
export function tokenCheck(authenticator: HandshakeAuthenticator): HandshakeCheck {
  return async (req) => {
    const failure = await authenticator.checkRequest(req);
    return failure ? tokenRefusal(failure.reason) : undefined;
  };
}

export function tokenRefusal(reason: AuthFailureReason): Refusal {
  return { status: 401, code: 'UNAUTHORIZED', reason, message: 'unauthorized' };
}
