import { toFailure, WsError } from './ws-error.js';

describe('toFailure', () => {
  it('keeps the code and message of a WsError', () => {
    expect(toFailure(new WsError('NOT_IN_ROOM', 'Join "lobby" first'))).toEqual({
      ok: false,
      error: { code: 'NOT_IN_ROOM', message: 'Join "lobby" first' },
    });
  });

  it.each<[string, unknown]>([
    ['an Error', new Error('connect ECONNREFUSED 10.0.0.7:6379')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a string', 'db password is hunter2'],
    ['undefined', undefined],
    ['an object with a code', { code: 'FORBIDDEN', message: 'looks like a WsError' }],
  ])('turns %s into a generic INTERNAL without leaking its message', (_kind, thrown) => {
    expect(toFailure(thrown)).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'Internal error' },
    });
  });
});
