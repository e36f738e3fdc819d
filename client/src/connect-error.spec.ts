import { connectFailureOf } from './connect-error.js';

const refused = (message: string, data: unknown) => Object.assign(new Error(message), { data });

describe('connectFailureOf', () => {
  it('types a refusal by the server middleware by its code, and says socket.io will not retry', () => {
    expect(
      connectFailureOf(
        refused('unauthorized', { code: 'UNAUTHORIZED', reason: 'token_expired' }),
        false,
      ),
    ).toEqual({
      code: 'UNAUTHORIZED',
      reason: 'token_expired',
      willRetry: false,
      message: 'unauthorized',
    });
    expect(
      connectFailureOf(
        refused('too many connections', {
          code: 'TOO_MANY_CONNECTIONS',
          reason: 'too_many_connections',
        }),
        false,
      ),
    ).toMatchObject({ code: 'TOO_MANY_CONNECTIONS', willRetry: false });
  });

  it('calls a failure that socket.io retries a transport failure, whatever its data', () => {
    expect(connectFailureOf(new Error('websocket error'), true)).toEqual({
      code: 'TRANSPORT',
      reason: 'websocket error',
      willRetry: true,
      message: 'websocket error',
    });
  });

  it('keeps anything else apart as UNKNOWN, never throwing on odd input', () => {
    expect(connectFailureOf(refused('nope', { code: 'SOMETHING_NEW' }), false)).toMatchObject({
      code: 'UNKNOWN',
      reason: 'nope',
      willRetry: false,
    });
    expect(connectFailureOf('a string', false)).toMatchObject({
      code: 'UNKNOWN',
      reason: 'a string',
    });
    expect(connectFailureOf(refused('x', null), false)).toMatchObject({ code: 'UNKNOWN' });
  });
});
