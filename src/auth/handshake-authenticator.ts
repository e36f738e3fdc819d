import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { ExtendedError, Socket } from 'socket.io';
import { AuthError } from './auth-error.js';
import type { AuthUser } from './auth-user.js';
import { tokenFromAuth, tokenFromRequest } from './token-carriers.js';
import { TokenVerifier } from './token-verifier.js';

export interface UnauthorizedData {
  readonly code: 'UNAUTHORIZED';
  readonly reason: AuthError['reason'];
}

/**
 * Authenticates a connection twice over, once per layer:
 * - `checkRequest` runs on the raw HTTP handshake (polling or upgrade) before engine.io sees
 *   it, so a bad token carried by the request gets a real HTTP 401 and no socket;
 * - `middleware` runs in every namespace and sets `socket.data.user`, reusing the request's
 *   verification when the token came with the request, or verifying `auth.token`.
 */
@Injectable()
export class HandshakeAuthenticator {
  private readonly verifiedRequests = new WeakMap<object, Promise<AuthUser>>();

  constructor(private readonly verifier: TokenVerifier) {}

  /** Resolves to the refusal reason, or `undefined` when the request may proceed. */
  async checkRequest(req: IncomingMessage): Promise<AuthError | undefined> {
    const token = tokenFromRequest(req);
    if (token === undefined) return undefined;
    const verification = this.verifier.verify(token);
    this.verifiedRequests.set(req, verification);
    try {
      await verification;
      return undefined;
    } catch (error) {
      return error instanceof AuthError ? error : new AuthError('malformed_token');
    }
  }

  /**
   * The connection keeps a smaller record in place of its HTTP request (`socket.request`),
   * without the headers that carried the token: the request's verification goes with it.
   */
  carryOver(from: IncomingMessage, to: object): void {
    const verified = this.verifiedRequests.get(from);
    if (verified) this.verifiedRequests.set(to, verified);
  }

  readonly middleware = (socket: Socket, next: (err?: ExtendedError) => void): void => {
    this.authenticate(socket)
      .then(notExpired)
      .then(
        (user) => {
          (socket.data as { user: AuthUser }).user = user;
          next();
        },
        (error: unknown) => next(unauthorized(error)),
      );
  };

  private authenticate(socket: Socket): Promise<AuthUser> {
    const authToken = tokenFromAuth(socket.handshake.auth);
    if (authToken !== undefined) return this.verifier.verify(authToken);
    const verified = this.verifiedRequests.get(socket.request);
    if (verified) return verified;
    const requestToken = tokenFromRequest(socket.request);
    if (requestToken !== undefined) return this.verifier.verify(requestToken);
    return Promise.reject(new AuthError('missing_token'));
  }
}

/** A verification reused from the HTTP request may be older than the token's expiry. */
function notExpired(user: AuthUser): AuthUser {
  if (user.expiresAt <= Date.now()) throw new AuthError('token_expired');
  return user;
}

function unauthorized(error: unknown): ExtendedError {
  const reason = error instanceof AuthError ? error.reason : 'malformed_token';
  const data: UnauthorizedData = { code: 'UNAUTHORIZED', reason };
  return Object.assign(new Error('unauthorized'), { data });
}
