import type { IncomingMessage } from 'node:http';
import { jest } from '@jest/globals';
import type { Socket } from 'socket.io';
import { loadConfig } from '../config/app-config.js';
import { HandshakeAuthenticator } from './handshake-authenticator.js';
import { mintToken } from './token-minter.js';
import { TokenVerifier } from './token-verifier.js';

const SECRET = 'handshake-authenticator-spec-secret-0123456789';

function authenticator(): HandshakeAuthenticator {
  const loaded = loadConfig({ NODE_ENV: 'test', JWT_SECRET: SECRET });
  if (!loaded.ok) throw new Error('bad test config');
  return new HandshakeAuthenticator(new TokenVerifier(loaded.config));
}

function request(headers: Record<string, string>): IncomingMessage {
  return { headers, url: '/socket.io/?EIO=4&transport=websocket' } as IncomingMessage;
}

function socketFor(req: IncomingMessage, auth: object = {}): Socket {
  return { request: req, handshake: { auth }, data: {} } as unknown as Socket;
}

function runMiddleware(auth: HandshakeAuthenticator, socket: Socket): Promise<Error | undefined> {
  return new Promise((resolve) => auth.middleware(socket, resolve));
}

describe('HandshakeAuthenticator', () => {
  afterEach(() => jest.useRealTimers());

  it('reuses the verification of the HTTP request and sets socket.data.user', async () => {
    const auth = authenticator();
    const req = request({
      authorization: `Bearer ${await mintToken({ secret: SECRET, sub: 'alice' })}`,
    });
    expect(await auth.checkRequest(req)).toBeUndefined();
    const socket = socketFor(req);
    expect(await runMiddleware(auth, socket)).toBeUndefined();
    expect((socket.data as { user: { id: string } }).user.id).toBe('alice');
  });

  it('refuses a reused verification once the token has expired since the HTTP handshake', async () => {
    const auth = authenticator();
    const req = request({
      authorization: `Bearer ${await mintToken({ secret: SECRET, sub: 'alice', ttlS: 60 })}`,
    });
    expect(await auth.checkRequest(req)).toBeUndefined();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    jest.setSystemTime(Date.now() + 61_000);
    const error = await runMiddleware(auth, socketFor(req));
    expect(error).toMatchObject({
      message: 'unauthorized',
      data: { code: 'UNAUTHORIZED', reason: 'token_expired' },
    });
  });

  it('a bad HTTP token is reported with its reason and no socket user', async () => {
    const auth = authenticator();
    const refusal = await auth.checkRequest(request({ authorization: 'Bearer nope' }));
    expect(refusal?.reason).toBe('malformed_token');
  });

  it('no token anywhere is missing_token', async () => {
    const error = await runMiddleware(authenticator(), socketFor(request({})));
    expect(error).toMatchObject({ data: { code: 'UNAUTHORIZED', reason: 'missing_token' } });
  });
});
