import { expiryOf, isExpired, TokenAuth } from './token.js';

/** A JWT-shaped string (unsigned: the client only reads `exp`). */
function jwt(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.signature`;
}

/** Runs one attempt's `auth` and resolves with what it sent, or undefined if it sent nothing. */
async function attempt(auth: TokenAuth): Promise<{ token: string } | undefined> {
  let sent: { token: string } | undefined;
  auth.auth((data) => (sent = data));
  await new Promise((resolve) => setImmediate(resolve));
  return sent;
}

describe('TokenAuth', () => {
  it('asks getToken before every attempt and sends what it gives then', async () => {
    const tokens = ['first', 'second'];
    const auth = new TokenAuth(
      () => tokens.shift()!,
      () => undefined,
    );
    expect(await attempt(auth)).toEqual({ token: 'first' });
    expect(await attempt(auth)).toEqual({ token: 'second' });
    expect(auth.sent).toBe('second');
  });

  it('waits for an async getToken', async () => {
    const auth = new TokenAuth(
      () => Promise.resolve('fresh'),
      () => undefined,
    );
    expect(await attempt(auth)).toEqual({ token: 'fresh' });
  });

  it('sends nothing and reports when getToken throws, rejects or gives no token', async () => {
    const failures: unknown[] = [];
    const answers: (() => string | Promise<string>)[] = [
      () => {
        throw new Error('offline');
      },
      () => Promise.reject(new Error('refresh failed')),
      () => '',
    ];
    for (const getToken of answers) {
      const auth = new TokenAuth(getToken, (error) => failures.push(error));
      expect(await attempt(auth)).toBeUndefined();
      expect(auth.sent).toBeUndefined();
    }
    expect(failures.map((error) => (error as Error).message)).toEqual([
      'offline',
      'refresh failed',
      'getToken gave no token',
    ]);
  });
});

describe('token expiry', () => {
  it('reads exp from a base64url payload, non-ASCII claims included', () => {
    expect(expiryOf(jwt({ sub: 'zoë', name: 'Zoë ☃', exp: 1_700_000_000 }))).toBe(
      1_700_000_000_000,
    );
  });

  it('counts a token within 10 s of exp as expired, and one without a readable exp as not', () => {
    const now = 1_700_000_000_000;
    expect(isExpired(jwt({ exp: now / 1000 + 5 }), now)).toBe(true);
    expect(isExpired(jwt({ exp: now / 1000 + 60 }), now)).toBe(false);
    for (const token of ['', 'not-a-jwt', 'a.!!!.c', jwt({ sub: 'x' }), 'a.bm90IGpzb24.c'])
      expect(isExpired(token, now)).toBe(false);
  });
});
