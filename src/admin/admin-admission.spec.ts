import { jest } from '@jest/globals';
import type { ExtendedError, Socket } from 'socket.io';
import type { RealtimeAdapterDeps } from '../socket-server/realtime-io.adapter.js';
import { presentsCredentials, withAdminAdmission } from './admin-admission.js';

type Authenticator = RealtimeAdapterDeps['authenticator'];

const socketOf = (namespace: string, auth: object): Socket =>
  ({ nsp: { name: namespace }, handshake: { auth }, data: {} }) as unknown as Socket;

describe('presentsCredentials', () => {
  it.each([
    [{ sessionId: 'abc' }, true],
    [{ username: 'ops', password: '' }, true],
    [{ sessionId: null }, false],
    [{ username: 'ops' }, false],
    [{ username: 'ops', password: 42 }, false],
    [{ password: 'x' }, false],
    [{}, false],
    [null, false],
  ])('%j: %s', (auth, expected) => expect(presentsCredentials(auth)).toBe(expected));
});

describe('withAdminAdmission', () => {
  const base = {
    middleware: jest.fn((_socket: Socket, next: (error?: ExtendedError) => void) => next()),
    checkRequest: jest.fn(() => Promise.resolve(undefined)),
  };
  const authenticator = withAdminAdmission(base as unknown as Authenticator, {
    user: 'ops',
    sessionS: 60,
  });
  beforeEach(() => jest.clearAllMocks());

  it('leaves every other namespace, and the HTTP check, to the JWT authenticator', async () => {
    const next = jest.fn();
    authenticator.middleware(socketOf('/chat', { username: 'ops', password: 'x' }), next);
    expect(base.middleware).toHaveBeenCalledTimes(1);
    await authenticator.checkRequest({} as never);
    expect(base.checkRequest).toHaveBeenCalledTimes(1);
  });

  it('gives an /admin socket with credentials an identity, for the UI to check next', () => {
    const socket = socketOf('/admin', { username: 'ops', password: 'x' });
    const next = jest.fn();
    authenticator.middleware(socket, next);
    expect(next).toHaveBeenCalledWith();
    expect(base.middleware).not.toHaveBeenCalled();
    expect(socket.data).toEqual({
      user: { id: 'admin-ui:ops', name: 'ops', expiresAt: expect.any(Number) },
    });
  });

  it('refuses an /admin socket that presents nothing usable', () => {
    const next = jest.fn();
    authenticator.middleware(socketOf('/admin', { username: 'ops' }), next);
    expect(next).toHaveBeenCalledWith(
      expect.objectContaining({ data: { code: 'UNAUTHORIZED', reason: 'missing_credentials' } }),
    );
  });
});
