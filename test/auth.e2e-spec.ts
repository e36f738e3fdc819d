import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { Manager } from 'socket.io-client';
import { WebSocket } from 'ws';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { NOTIFICATIONS_NAMESPACE } from '../src/notifications/notifications.events.js';
import { startApp, type TestApp } from './support/app-harness.js';
import {
  closeAllClients,
  connectClient,
  connectError,
  createClient,
  waitFor,
} from './support/clients.js';
import {
  createSigningKey,
  signWith,
  startJwksServer,
  type SigningKey,
} from './support/jwks-server.js';

afterEach(() => closeAllClients());

function rawGetStatus(url: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/`, { path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Resolves with the HTTP status of a raw WebSocket upgrade to the engine.io endpoint. */
function upgradeStatus(
  url: string,
  {
    headers,
    protocols,
    query = '',
  }: { headers?: Record<string, string>; protocols?: string[]; query?: string },
): Promise<{ status: number; protocol?: string }> {
  const wsUrl = `${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket${query}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, protocols ?? [], { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      resolve({ status: 101, protocol: ws.protocol });
      ws.close();
    });
    ws.once('error', reject);
  });
}

describe('handshake authentication (HS256 secret)', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  const wrongSecret = 'another-secret-that-is-long-enough-for-hs256-xyz';
  const badTokens: [string, () => Promise<string | undefined>, string][] = [
    ['no token at all', () => Promise.resolve(undefined), 'missing_token'],
    ['a garbage token', () => Promise.resolve('not.a.jwt'), 'malformed_token'],
    [
      'a token signed with another secret',
      () => tokenWithSecret(wrongSecret, { sub: 'alice' }),
      'invalid_signature',
    ],
    ['an expired token', () => server.token('alice', { ttlS: -10 }), 'token_expired'],
    ['an unsigned alg:none token', () => Promise.resolve(unsignedToken()), 'unsupported_algorithm'],
    [
      'a token without sub',
      () => tokenWithSecret(server.config.auth.secret!, {}),
      'invalid_claims',
    ],
    [
      'a token without exp',
      () => tokenWithSecret(server.config.auth.secret!, { sub: 'a' }, false),
      'invalid_claims',
    ],
  ];

  it.each(badTokens)(
    '%s in auth gets connect_error "unauthorized" and no socket',
    async (_label, make, reason) => {
      const token = await make();
      const socket = createClient(server.url, CHAT_NAMESPACE, {
        auth: token === undefined ? {} : { token },
      });
      const error = await connectError(socket);
      expect(error.message).toBe('unauthorized');
      expect(error.data).toEqual({ code: 'UNAUTHORIZED', reason });
      expect(socket.connected).toBe(false);
    },
  );

  it.each([CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, '/'])(
    'namespace %s is authenticated too',
    async (namespace) => {
      const error = await connectError(createClient(server.url, namespace));
      expect(error.data).toEqual({ code: 'UNAUTHORIZED', reason: 'missing_token' });
    },
  );

  it('a bad token in the Authorization header gets HTTP 401 on the raw upgrade, before any socket', async () => {
    expect(
      await upgradeStatus(server.url, { headers: { Authorization: 'Bearer not.a.jwt' } }),
    ).toEqual({ status: 401 });
    const expired = await server.token('alice', { ttlS: -10 });
    expect(
      await upgradeStatus(server.url, { headers: { Authorization: `Bearer ${expired}` } }),
    ).toEqual({ status: 401 });
  });

  it('a bad token in the query or the subprotocol gets HTTP 401 on the raw upgrade', async () => {
    expect(await upgradeStatus(server.url, { query: '&access_token=garbage' })).toEqual({
      status: 401,
    });
    expect(await upgradeStatus(server.url, { protocols: ['access_token', 'garbage'] })).toEqual({
      status: 401,
    });
  });

  it('no spelling of "sid" in the URL lets a bad token skip the 401', async () => {
    const bad = { Authorization: 'Bearer not.a.jwt' };
    for (const suffix of ['&sid=', '&sid=abc&sid=', '#&sid=abc']) {
      // node:http sends the path as written, fragment included, as a hostile client would.
      const status = await rawGetStatus(
        server.url,
        `/socket.io/?EIO=4&transport=polling${suffix}`,
        bad,
      );
      expect({ suffix, status }).toEqual({ suffix, status: 401 });
    }
    for (const suffix of ['&sid=', '&sid=abc&sid=']) {
      expect(await upgradeStatus(server.url, { headers: bad, query: suffix })).toEqual({
        status: 401,
      });
    }
  });

  it("a browser's Basic credentials for the site do not stand in for the token", async () => {
    const token = await server.token('alice');
    const socket = await connectClient(server.url, CHAT_NAMESPACE, {
      transports: ['polling'],
      auth: { token },
      extraHeaders: { Authorization: 'Basic YWxpY2U6c2VjcmV0' },
    });
    expect(socket.connected).toBe(true);
  });

  it('a handshake check added after start-up applies to the next handshakes, with its own status', async () => {
    const other = await startApp();
    try {
      other.adapter.addHandshakeCheck(() => ({
        status: 503,
        code: 'UNAVAILABLE',
        reason: 'test_check',
        message: 'try elsewhere',
      }));
      const polling = await fetch(`${other.url}/socket.io/?EIO=4&transport=polling`);
      expect(polling.status).toBe(503);
      expect(await polling.json()).toEqual({
        code: 'UNAVAILABLE',
        reason: 'test_check',
        message: 'try elsewhere',
      });
      expect(await upgradeStatus(other.url, {})).toEqual({ status: 503 });
    } finally {
      await other.close();
    }
  });

  it('a good token in the subprotocol is accepted and the server answers with "access_token"', async () => {
    const token = await server.token('alice');
    expect(await upgradeStatus(server.url, { protocols: ['access_token', token] })).toEqual({
      status: 101,
      protocol: 'access_token',
    });
  });

  it('a bad token on the polling handshake gets HTTP 401 with a JSON reason', async () => {
    const viaHeader = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Authorization: 'Bearer garbage' },
    });
    expect(viaHeader.status).toBe(401);
    expect(await viaHeader.json()).toEqual({
      code: 'UNAUTHORIZED',
      reason: 'malformed_token',
      message: 'unauthorized',
    });
    const viaQuery = await fetch(
      `${server.url}/socket.io/?EIO=4&transport=polling&access_token=garbage`,
    );
    expect(viaQuery.status).toBe(401);
  });

  it('a good token carried by any of the four carriers connects, on websocket and on polling', async () => {
    const token = await server.token('alice', { name: 'Alice' });
    const carriers = {
      auth: { auth: { token } },
      header: { extraHeaders: { Authorization: `Bearer ${token}` } },
      query: { query: { access_token: token } },
    };
    for (const transports of [['websocket'], ['polling']]) {
      for (const options of Object.values(carriers)) {
        const socket = await connectClient(server.url, CHAT_NAMESPACE, { transports, ...options });
        expect(await socket.emitWithAck(ChatEvent.RoomJoin, { room: 'carriers' })).toMatchObject({
          ok: true,
          room: 'carriers',
        });
      }
    }
    const viaSubprotocol = await connectClient(server.url, CHAT_NAMESPACE, {
      protocols: ['access_token', token],
    });
    expect(await viaSubprotocol.emitWithAck(ChatEvent.PresenceList, { room: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_IN_ROOM' },
    });
  });

  it('a socket whose token expires is disconnected at expiry with "io server disconnect", which a stock client does not retry; its connection\'s other namespaces stay', async () => {
    // One connection, two namespaces, two tokens: /chat's expires, /notifications' does not.
    const manager = new Manager(server.url, { transports: ['websocket'], reconnection: false });
    const chat = manager.socket(CHAT_NAMESPACE, {
      auth: { token: await server.token('shortlived', { ttlS: 2 }) },
    });
    const notifications = manager.socket(NOTIFICATIONS_NAMESPACE, {
      auth: { token: await server.token('shortlived', { ttlS: 3600 }) },
    });
    try {
      await Promise.all([waitFor(chat, 'connect'), waitFor(notifications, 'connect')]);
      const connectedAt = Date.now();
      const reason = await waitFor<string>(chat, 'disconnect', { timeoutMs: 5000 });
      expect(reason).toBe('io server disconnect');
      // The token's exp has one-second resolution: the cut comes within (1 s, 2 s].
      expect(Date.now() - connectedAt).toBeGreaterThan(900);
      // The sibling namespace on the same connection still answers.
      expect(notifications.connected).toBe(true);
      expect(await notifications.timeout(2000).emitWithAck('no:such-event', {})).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION' },
      });
    } finally {
      chat.disconnect();
      notifications.disconnect();
    }
  });
});

describe('handshake authentication (JWKS, RS256/ES256, issuer and audience)', () => {
  let server: TestApp;
  let jwks: { url: string; close(): Promise<void> };
  let rsa: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey;
  const iss = 'https://idp.example.test/';
  const aud = 'realtime-api';

  beforeAll(async () => {
    [rsa, ec, stranger] = await Promise.all([
      createSigningKey('rsa-1', 'RS256'),
      createSigningKey('ec-1', 'ES256'),
      createSigningKey('rsa-2', 'RS256'),
    ]);
    jwks = await startJwksServer([rsa, ec]);
    server = await startApp({
      env: { JWT_SECRET: '', JWT_JWKS_URL: jwks.url, JWT_ISSUER: iss, JWT_AUDIENCE: aud },
    });
  });
  afterAll(async () => {
    await server.close();
    await jwks.close();
  });

  it.each(['RS256', 'ES256'])('a %s token from the identity provider connects', async (alg) => {
    const key = alg === 'RS256' ? rsa : ec;
    const token = await signWith(key, { sub: 'alice', name: 'Alice', iss, aud });
    const socket = await connectClient(server.url, CHAT_NAMESPACE, { auth: { token } });
    expect(socket.connected).toBe(true);
  });

  const refused: [string, () => Promise<string>, string][] = [
    [
      'a wrong issuer',
      () => signWith(rsa, { sub: 'a', iss: 'https://evil.test/', aud }),
      'invalid_claims',
    ],
    [
      'a wrong audience',
      () => signWith(rsa, { sub: 'a', iss, aud: 'other-api' }),
      'invalid_claims',
    ],
    [
      'a key the JWKS does not list',
      () => signWith(stranger, { sub: 'a', iss, aud }),
      'invalid_signature',
    ],
    [
      'an expired token',
      () => signWith(ec, { sub: 'a', iss, aud, expiresInS: -60 }),
      'token_expired',
    ],
    [
      'an HS256 token (no secret configured)',
      () => tokenWithSecret('x'.repeat(40), { sub: 'a' }),
      'unsupported_algorithm',
    ],
  ];

  it.each(refused)('%s is refused', async (_label, make, reason) => {
    const error = await connectError(
      createClient(server.url, CHAT_NAMESPACE, { auth: { token: await make() } }),
    );
    expect(error.data).toEqual({ code: 'UNAUTHORIZED', reason });
  });
});

async function tokenWithSecret(
  secret: string,
  claims: { sub?: string },
  withExp = true,
): Promise<string> {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  if (withExp) jwt = jwt.setExpirationTime('10m');
  return jwt.sign(new TextEncoder().encode(secret));
}

function unsignedToken(): string {
  const exp = Math.floor(Date.now() / 1000) + 600;
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'alice', exp })}.`;
}
