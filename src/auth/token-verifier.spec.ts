import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { loadConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AuthError, type AuthFailureReason } from './auth-error.js';
import { mintToken } from './token-minter.js';
import { TokenVerifier } from './token-verifier.js';

const SECRET = 'unit-test-secret-of-at-least-32-characters';
const OTHER_SECRET = 'another-secret-of-at-least-32-characters!';

async function verifierFor(env: NodeJS.ProcessEnv): Promise<TokenVerifier> {
  const result = loadConfig({ NODE_ENV: 'test', ...env });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  const moduleRef = await Test.createTestingModule({
    providers: [TokenVerifier, { provide: APP_CONFIG, useValue: result.config }],
  }).compile();
  return moduleRef.get(TokenVerifier);
}

async function refusalOf(verifier: TokenVerifier, token: string): Promise<AuthFailureReason> {
  try {
    await verifier.verify(token);
  } catch (error) {
    if (error instanceof AuthError) return error.reason;
    throw error;
  }
  throw new Error('expected the token to be refused');
}

const nowS = (): number => Math.floor(Date.now() / 1000);
const base64url = (value: object): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs exactly the claims given: no `sub` or `exp` unless the test passes them. */
function signHs(claims: JWTPayload, { secret = SECRET, alg = 'HS256' } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

describe('TokenVerifier with an HS256 secret', () => {
  let verifier: TokenVerifier;

  beforeAll(async () => {
    verifier = await verifierFor({ JWT_SECRET: SECRET });
  });

  it('a valid token gives the user: id from sub, name, and expiry in ms', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'alice', name: 'Alice', ttlS: 600 });
    const exp = nowS() + 600;
    const user = await verifier.verify(token);
    expect(user).toEqual({ id: 'alice', name: 'Alice', expiresAt: expect.any(Number) });
    expect(Math.abs(user.expiresAt - exp * 1000)).toBeLessThanOrEqual(1000);
  });

  it('expiresAt is exactly the exp claim in milliseconds', async () => {
    const exp = nowS() + 120;
    const user = await verifier.verify(await signHs({ sub: 'alice', exp }));
    expect(user.expiresAt).toBe(exp * 1000);
  });

  it('the name defaults to sub when absent or blank, and is trimmed', async () => {
    const exp = nowS() + 60;
    expect((await verifier.verify(await signHs({ sub: 'bob', exp }))).name).toBe('bob');
    expect((await verifier.verify(await signHs({ sub: 'bob', exp, name: '  ' }))).name).toBe('bob');
    expect((await verifier.verify(await signHs({ sub: 'bob', exp, name: ' Bob ' }))).name).toBe(
      'Bob',
    );
  });

  it('a long name is cut to 64 characters', async () => {
    const token = await signHs({ sub: 'bob', exp: nowS() + 60, name: 'n'.repeat(500) });
    expect((await verifier.verify(token)).name).toHaveLength(64);
  });

  it('garbage is a malformed_token', async () => {
    expect(await refusalOf(verifier, 'not-a-jwt')).toBe('malformed_token');
    expect(await refusalOf(verifier, '')).toBe('malformed_token');
    expect(await refusalOf(verifier, 'a.b.c')).toBe('malformed_token');
  });

  it('a token signed with another secret is an invalid_signature', async () => {
    const token = await mintToken({ secret: OTHER_SECRET, sub: 'alice' });
    expect(await refusalOf(verifier, token)).toBe('invalid_signature');
  });

  it('an expired token is token_expired', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'alice', ttlS: -60 });
    expect(await refusalOf(verifier, token)).toBe('token_expired');
  });

  it('an unsigned token (alg none) is refused as unsupported_algorithm', async () => {
    const header = base64url({ alg: 'none', typ: 'JWT' });
    const payload = base64url({ sub: 'mallory', exp: nowS() + 600 });
    expect(await refusalOf(verifier, `${header}.${payload}.`)).toBe('unsupported_algorithm');
  });

  it('an HS512 token is unsupported_algorithm, even with the right secret', async () => {
    const token = await signHs({ sub: 'alice', exp: nowS() + 60 }, { alg: 'HS512' });
    expect(await refusalOf(verifier, token)).toBe('unsupported_algorithm');
  });

  it('an RS256 token is unsupported_algorithm when no JWKS is configured', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(await refusalOf(verifier, token)).toBe('unsupported_algorithm');
  });

  it.each<[string, JWTPayload]>([
    ['a missing sub', { exp: nowS() + 60 }],
    ['an empty sub', { sub: '', exp: nowS() + 60 }],
    ['a sub longer than 256 characters', { sub: 's'.repeat(257), exp: nowS() + 60 }],
    ['a missing exp', { sub: 'alice' }],
    ['a name that is not a string', { sub: 'alice', exp: nowS() + 60, name: 42 }],
  ])('%s is invalid_claims', async (_case, claims) => {
    expect(await refusalOf(verifier, await signHs(claims))).toBe('invalid_claims');
  });

  it("the rooms claim becomes the user's room patterns, kept as given", async () => {
    const rooms = ['private:team-*', 'private:ops', 'x'.repeat(100)];
    const user = await verifier.verify(await mintToken({ secret: SECRET, sub: 'alice', rooms }));
    expect(user.rooms).toEqual(rooms);
    expect(Object.isFrozen(user.rooms)).toBe(true);
  });

  it('an empty rooms claim is no patterns; a token without one has no rooms', async () => {
    const exp = nowS() + 60;
    expect((await verifier.verify(await signHs({ sub: 'bob', exp, rooms: [] }))).rooms).toEqual([]);
    expect(await verifier.verify(await signHs({ sub: 'bob', exp }))).not.toHaveProperty('rooms');
  });

  it.each<[string, unknown]>([
    ['a string', 'private:team-*'],
    ['null', null],
    ['an object', { 'private:a': true }],
    ['an array with a number', ['private:a', 42]],
    ['an array with null', [null]],
    ['an array with an empty string', ['']],
    ['an array with a pattern longer than 100 characters', ['x'.repeat(101)]],
    ['an array with a nested array', [['private:a']]],
  ])('a rooms claim that is %s is invalid_claims', async (_case, rooms) => {
    const token = await signHs({ sub: 'alice', exp: nowS() + 60, rooms });
    expect(await refusalOf(verifier, token)).toBe('invalid_claims');
  });

  it('the refusal never carries the token', async () => {
    const token = await mintToken({ secret: OTHER_SECRET, sub: 'alice' });
    const error = await verifier.verify(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect(String((error as Error).message)).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
  });
});

describe('TokenVerifier with JWT_ISSUER and JWT_AUDIENCE', () => {
  const issuer = 'https://idp.example.com/';
  const audience = 'chat';
  let verifier: TokenVerifier;

  beforeAll(async () => {
    verifier = await verifierFor({
      JWT_SECRET: SECRET,
      JWT_ISSUER: issuer,
      JWT_AUDIENCE: audience,
    });
  });

  it('accepts a token with the configured issuer and audience', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'alice', issuer, audience });
    expect((await verifier.verify(token)).id).toBe('alice');
  });

  it.each<[string, { issuer?: string; audience?: string }]>([
    ['another issuer', { issuer: 'https://evil.example.com/', audience }],
    ['no issuer', { audience }],
    ['another audience', { issuer, audience: 'billing' }],
    ['no audience', { issuer }],
  ])('a token with %s is invalid_claims', async (_case, claims) => {
    const token = await mintToken({ secret: SECRET, sub: 'alice', ...claims });
    expect(await refusalOf(verifier, token)).toBe('invalid_claims');
  });
});

interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function signWith(
  { privateKey, alg }: SigningKey,
  kid: string,
  claims: JWTPayload = { sub: 'alice', name: 'Alice' },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setExpirationTime(nowS() + 600)
    .sign(privateKey);
}

/** An identity provider's JWKS endpoint on a free port. */
async function serveJwks(
  keys: readonly JWK[],
): Promise<{ url: string; close: () => Promise<void> }> {
  const body = JSON.stringify({ keys });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

describe('TokenVerifier with a JWKS URL', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let outsider: SigningKey;
  let jwks: { url: string; close: () => Promise<void> };
  let verifier: TokenVerifier;

  beforeAll(async () => {
    [rsa, ec, outsider] = await Promise.all([
      signingKey('rsa-1', 'RS256'),
      signingKey('ec-1', 'ES256'),
      signingKey('outsider', 'RS256'),
    ]);
    jwks = await serveJwks([rsa.jwk, ec.jwk]);
    verifier = await verifierFor({ JWT_JWKS_URL: jwks.url });
  });
  afterAll(() => jwks.close());

  it('verifies an RS256 token against the key set', async () => {
    const user = await verifier.verify(await signWith(rsa, rsa.kid));
    expect(user).toEqual({ id: 'alice', name: 'Alice', expiresAt: expect.any(Number) });
  });

  it('verifies an ES256 token against the key set', async () => {
    expect((await verifier.verify(await signWith(ec, ec.kid))).id).toBe('alice');
  });

  it('a token signed by a key that is not in the set is an invalid_signature', async () => {
    expect(await refusalOf(verifier, await signWith(outsider, outsider.kid))).toBe(
      'invalid_signature',
    );
  });

  it('a token signed by another key under a known kid is an invalid_signature', async () => {
    expect(await refusalOf(verifier, await signWith(outsider, rsa.kid))).toBe('invalid_signature');
  });

  it('still checks the claims of a well-signed token', async () => {
    expect(await refusalOf(verifier, await signWith(rsa, rsa.kid, { name: 'Alice' }))).toBe(
      'invalid_claims',
    );
  });

  it('an HS256 token is unsupported_algorithm when only a JWKS is configured', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'alice' });
    expect(await refusalOf(verifier, token)).toBe('unsupported_algorithm');
  });

  it('accepts both kinds when a secret and a JWKS are configured', async () => {
    const both = await verifierFor({ JWT_SECRET: SECRET, JWT_JWKS_URL: jwks.url });
    expect((await both.verify(await mintToken({ secret: SECRET, sub: 'hs' }))).id).toBe('hs');
    expect((await both.verify(await signWith(rsa, rsa.kid))).id).toBe('alice');
  });

  it("a JWKS endpoint that answers 503 is key_unavailable, not the token's fault", async () => {
    const failing = createServer((_req, res) => void res.writeHead(503).end('down'));
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const { port } = failing.address() as AddressInfo;
    try {
      const outage = await verifierFor({ JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
      expect(await refusalOf(outage, await signWith(rsa, rsa.kid))).toBe('key_unavailable');
    } finally {
      failing.closeAllConnections();
      failing.close();
    }
  });

  it('a JWKS endpoint that cannot be reached is key_unavailable', async () => {
    const gone = await serveJwks([rsa.jwk]);
    await gone.close();
    const stranded = await verifierFor({ JWT_JWKS_URL: gone.url });
    expect(await refusalOf(stranded, await signWith(rsa, rsa.kid))).toBe('key_unavailable');
  });
});
