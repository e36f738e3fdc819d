import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type PresenceChange,
} from '../src/chat/chat.events.js';
import { mintToken } from '../src/auth/token-minter.js';
import { NotificationsGateway } from '../src/notifications/notifications.gateway.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
} from '../src/notifications/notifications.events.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import type { Ack } from '../src/gateway/ws-error.js';
import { startApp, TEST_SECRET, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, waitFor } from './support/clients.js';
import { killAllSpawned, spawnApp, type SpawnedApp } from './support/spawn-app.js';

const CLIENT_BUILD = fileURLToPath(new URL('../dist/client/demo/client/main.js', import.meta.url));
const MAIN_BUILD = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const UI_TIMEOUT_MS = 10_000;
const SECRET_A = 'first-secret-of-the-restart-tests-0123456789-abcdef';
const SECRET_B = 'second-secret-of-the-restart-tests-0123456789-abcdef';
const SECRET_C = 'configured-secret-of-the-restart-tests-0123456789-abc';

let server: TestApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  for (const built of [CLIENT_BUILD, MAIN_BUILD])
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  server = await startApp();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  killAllSpawned();
});
afterEach(() => closeAllClients());

async function newPage(): Promise<Page> {
  const opened = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  opened.setDefaultTimeout(UI_TIMEOUT_MS);
  return opened;
}

async function openAndConnect(sub: string, name: string, url = server.url): Promise<void> {
  await page.goto(url);
  await page.fill('#sub', sub);
  await page.fill('#name', name);
  await page.click('#mint-token');
  await page.locator('#feedback', { hasText: `Minted a development token for ${name}` }).waitFor();
  await page.click('#connect');
  await page.locator('#status[data-state="connected"]').waitFor();
}

async function joinOnPage(room: string): Promise<void> {
  await page.fill('#room', room);
  await page.click('#join');
  await page.locator(`[data-testid="room"][data-room="${room}"][aria-current="true"]`).waitFor();
}

async function peer(
  sub: string,
  name: string,
  room: string,
  { url = server.url, secret = TEST_SECRET } = {},
): Promise<Socket> {
  const socket = await connectClient(url, CHAT_NAMESPACE, {
    auth: { token: await mintToken({ secret, sub, name }) },
  });
  const ack = (await socket.timeout(5000).emitWithAck(ChatEvent.RoomJoin, { room })) as Ack;
  expect(ack).toMatchObject({ ok: true, room });
  return socket;
}

/** `POST` with a JSON body (given as text, so a test can send a malformed one). */
async function post(
  url: string,
  body: string,
  token?: string,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/** Records every change of the drain banner (shown or not, and its text) in `window.drainLog`. */
async function recordDrainBanner(): Promise<void> {
  await page.evaluate(`
    window.drainLog = [];
    const banner = document.getElementById('draining');
    new MutationObserver(() => window.drainLog.push({ hidden: banner.hidden, text: banner.textContent }))
      .observe(banner, { attributes: true, childList: true, characterData: true, subtree: true });
  `);
}

describe('demo page', () => {
  beforeEach(async () => {
    page = await newPage();
  });
  afterEach(async () => {
    await page.close();
  });

  it('mints a token, connects, joins a room, shows a peer in presence and exchanges messages both ways', async () => {
    await openAndConnect('alice', 'Alice');
    await joinOnPage('lobby');

    const bob = await peer('bob', 'Bob', 'lobby');
    const bobInPresence = page.locator('[data-testid="presence-user"][data-user-id="bob"]');
    await bobInPresence.waitFor();
    expect(await bobInPresence.textContent()).toBe('Bob');

    const hostile = 'hello from <b>bob</b> & <img src=x onerror=alert(1)>';
    await bob.timeout(5000).emitWithAck(ChatEvent.MessageSend, { room: 'lobby', text: hostile });
    const shown = page.getByTestId('message').filter({ hasText: hostile });
    await shown.waitFor();
    expect(await shown.getByTestId('message-text').textContent()).toBe(hostile);
    expect(await page.locator('#messages b, #messages img').count()).toBe(0);

    const received = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    await page.fill('#message-text', 'hi Bob');
    await page.click('#send');
    expect(await received).toMatchObject({
      room: 'lobby',
      text: 'hi Bob',
      from: { id: 'alice', name: 'Alice' },
    });
    await page.locator('.message.own', { hasText: 'hi Bob' }).waitFor();

    await page.screenshot({ path: '/tmp/demo.png' });
  });

  it('shows an error ack to the user', async () => {
    await openAndConnect('alice', 'Alice');
    await page.fill('#room', 'user:bob');
    await page.click('#join');
    await page
      .locator('#feedback[data-kind="error"]', { hasText: 'room:join failed: FORBIDDEN' })
      .waitFor();
  });

  it('shows unauthorized with the reason when the token does not verify', async () => {
    await page.goto(server.url);
    const forged = await mintToken({
      secret: 'not-the-server-secret-0123456789-0123456789',
      sub: 'mallory',
    });
    await page.fill('#token', forged);
    await page.click('#connect');
    const status = page.locator('#status[data-state="unauthorized"]');
    await status.waitFor();
    expect(await status.textContent()).toBe(
      'unauthorized (invalid_signature): a new token is needed',
    );
    // Never accepted and not minted here: the page does not swap in a token of its own.
    expect(await page.locator('#feedback[data-kind="error"]').textContent()).toBe(
      'The server refused the token (invalid_signature); a new one is needed. ' +
        'Mint a new one or paste another, then Connect.',
    );
    expect(await page.inputValue('#token')).toBe(forged);
  });

  it('mints a new token for the same user and connects again when the token expires while connected', async () => {
    await page.goto(server.url);
    // exp is in whole seconds: a 2 s token lives 1-2 s.
    const shortLived = await mintToken({
      secret: TEST_SECRET,
      sub: 'carol',
      name: 'Carol',
      ttlS: 2,
    });
    await page.fill('#token', shortLived);
    await page.click('#connect');
    await page.locator('#status[data-state="connected"]').waitFor();
    await joinOnPage('lobby');

    await page
      .locator('#feedback', { hasText: 'The server turned the token down (token_expired)' })
      .waitFor({ timeout: 5000 });
    await page.locator('#status[data-state="connected"]').waitFor();
    await page.locator('[data-testid="room"][data-room="lobby"][data-joined="true"]').waitFor();
    const renewed = await page.inputValue('#token');
    expect(renewed).not.toBe(shortLived);
    expect(JSON.parse(Buffer.from(renewed.split('.')[1], 'base64url').toString())).toMatchObject({
      sub: 'carol',
      name: 'Carol',
    });
  });

  it('sends a test notification to its own user from the button', async () => {
    await openAndConnect('alice', 'Alice');
    const button = page.locator('#send-test-notification');
    await page.locator('#notifications-state[data-state="live"]').waitFor();
    expect(await button.isEnabled()).toBe(true);
    await button.click();
    await page.getByTestId('notification').filter({ hasText: 'demo.test' }).waitFor();
    await page.locator('#feedback', { hasText: 'Sent a test notification (demo.test)' }).waitFor();
    await page.screenshot({ path: '/tmp/demo-notification.png' });
  });

  it('on a server with a configured JWT_SECRET, says so instead of minting or notifying', async () => {
    const configured = await startApp({ env: { NODE_ENV: 'development' } });
    try {
      await page.goto(configured.url);
      await page.click('#mint-token');
      await page
        .locator('#feedback[data-kind="error"]', {
          hasText:
            'Cannot mint: this server has a configured JWT_SECRET (or JWKS) and mints no dev tokens; paste a token from "npm run token".',
        })
        .waitFor();
      await page.fill('#token', await configured.token('alice', { name: 'Alice' }));
      await page.click('#connect');
      await page.locator('#notifications-state[data-state="live"]').waitFor();
      await page.click('#send-test-notification');
      await page
        .locator('#feedback[data-kind="error"]', {
          hasText: 'Cannot send a test notification: this server has a configured JWT_SECRET',
        })
        .waitFor();
      await page.screenshot({ path: '/tmp/demo-configured-secret.png' });
    } finally {
      await configured.close();
    }
  });

  it('lists notifications pushed to the user on /notifications', async () => {
    await openAndConnect('alice', 'Alice');
    await page.locator('#notifications-state[data-state="live"]').waitFor();
    server.app
      .get(NotificationsService)
      .notifyUser('alice', 'invoice.paid', { invoiceId: 'inv_42' });
    await page
      .getByTestId('notification')
      .filter({ hasText: 'invoice.paid' })
      .filter({ hasText: 'inv_42' })
      .waitFor();
  });

  it('after a dropped connection it shows the reconnect attempt and joins its rooms again', async () => {
    await openAndConnect('alice', 'Alice');
    await joinOnPage('lobby');
    const bob = await peer('bob', 'Bob', 'lobby');
    await page.locator('[data-testid="presence-user"][data-user-id="bob"]').waitFor();
    await page.evaluate(`
      window.statusLog = [];
      const status = document.getElementById('status');
      new MutationObserver(() => window.statusLog.push(status.textContent))
        .observe(status, { childList: true, characterData: true, subtree: true });
    `);

    const left = waitFor<PresenceChange>(bob, ChatEvent.PresenceLeft);
    const back = waitFor<PresenceChange>(bob, ChatEvent.PresenceJoined, {
      timeoutMs: UI_TIMEOUT_MS,
    });
    const chat = server.app.get(NotificationsGateway).namespace.server.of(CHAT_NAMESPACE);
    for (const socket of chat.sockets.values())
      if (socket.data.user.id === 'alice') socket.conn.close();
    expect(await left).toEqual({ room: 'lobby', user: { id: 'alice', name: 'Alice' } });
    expect(await back).toEqual({ room: 'lobby', user: { id: 'alice', name: 'Alice' } });
    expect(await page.evaluate('window.statusLog')).toEqual([
      'disconnected: transport close',
      'reconnecting, attempt 1',
      'connected (websocket)',
    ]);

    await bob
      .timeout(5000)
      .emitWithAck(ChatEvent.MessageSend, { room: 'lobby', text: 'welcome back' });
    await page.getByTestId('message').filter({ hasText: 'welcome back' }).waitFor();
  });
});

describe('POST /dev/notify', () => {
  it("sends { type, data } to the bearer token's own user on /notifications, and only to them", async () => {
    const alice = await connectClient(server.url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await server.token('alice') },
    });
    const bob = await connectClient(server.url, NOTIFICATIONS_NAMESPACE, {
      auth: { token: await server.token('bob') },
    });
    const toAlice = waitFor<Notification>(alice, NotificationEvent.Notification);
    const toBob = waitFor<Notification>(bob, NotificationEvent.Notification);

    const sent = await post(
      `${server.url}/dev/notify`,
      JSON.stringify({ type: 'invoice.paid', data: { invoiceId: 'inv_7' } }),
      await server.token('alice'),
    );
    expect(sent).toEqual({
      status: 202,
      body: {
        id: expect.any(String),
        type: 'invoice.paid',
        data: { invoiceId: 'inv_7' },
        ts: expect.any(Number),
      },
    });
    expect(await toAlice).toEqual(sent.body);

    const defaults = await post(`${server.url}/dev/notify`, '{}', await server.token('bob'));
    expect(defaults.status).toBe(202);
    expect(await toBob).toMatchObject({ type: 'demo.test', data: { message: expect.any(String) } });
  });

  it('answers 401 without a valid bearer token', async () => {
    const forged = await mintToken({ secret: SECRET_A, sub: 'alice' });
    expect(await post(`${server.url}/dev/notify`, '{}')).toEqual({
      status: 401,
      body: { code: 'UNAUTHORIZED', reason: 'missing_token', message: expect.any(String) },
    });
    expect(await post(`${server.url}/dev/notify`, '{}', forged)).toEqual({
      status: 401,
      body: { code: 'UNAUTHORIZED', reason: 'invalid_signature', message: expect.any(String) },
    });
  });

  it('answers 400 to a bad body', async () => {
    const token = await server.token('alice');
    const cases: [string, string][] = [
      [JSON.stringify({ type: 5 }), 'type: must be a string'],
      [
        JSON.stringify({ type: 'has spaces' }),
        'type: must be 1-64 characters of A-Z a-z 0-9 _ - . :',
      ],
      [
        JSON.stringify({ type: 'x'.repeat(65) }),
        'type: must be 1-64 characters of A-Z a-z 0-9 _ - . :',
      ],
      [JSON.stringify({ data: 'x'.repeat(3000) }), 'data: must be at most 2048 bytes of JSON'],
      [JSON.stringify({ typo: 'demo' }), expect.stringContaining('typo')],
      [JSON.stringify([1, 2]), 'body must be a JSON object'],
    ];
    for (const [body, message] of cases)
      expect(await post(`${server.url}/dev/notify`, body, token)).toEqual({
        status: 400,
        body: { code: 'VALIDATION', message },
      });
    expect((await post(`${server.url}/dev/notify`, '{"type":', token)).status).toBe(400);
  });

  it('does not exist on a server with a configured JWT_SECRET (404, like /dev/token)', async () => {
    const configured = await startApp({ env: { NODE_ENV: 'development' } });
    try {
      const token = await configured.token('alice');
      expect((await post(`${configured.url}/dev/notify`, '{}', token)).status).toBe(404);
      expect((await post(`${configured.url}/dev/notify`, '{"type":5}')).status).toBe(404);
      expect((await post(`${configured.url}/dev/token`, '{"sub":"alice"}')).status).toBe(404);
    } finally {
      await configured.close();
    }
  });
});

/** One page through one story, on real processes restarted on the same port. */
describe('when the server goes away and comes back', () => {
  let story: Page;
  let app: SpawnedApp;
  let port: string;
  const devTokenRequests: string[] = [];

  beforeAll(async () => {
    app = await spawnApp({ NODE_ENV: 'test', JWT_SECRET: SECRET_A });
    port = new URL(app.url).port;
    story = page = await newPage();
    story.on('request', (request) => {
      if (request.url().endsWith('/dev/token')) devTokenRequests.push(request.method());
    });
  });
  afterAll(async () => {
    await story?.close();
    await app?.stop('SIGKILL');
  });

  it('down: drain notice gone once reconnecting failed, presence and rooms unknown; back with another JWT_SECRET: a new token for the same user, rejoined, chatting; back with a configured JWT_SECRET: the page says a new token is needed', async () => {
    // Down.
    await openAndConnect('alice', 'Alice', app.url);
    await joinOnPage('lobby');
    await peer('bob', 'Bob', 'lobby', { url: app.url, secret: SECRET_A });
    await page.locator('#presence[data-known="true"] [data-user-id="bob"]').waitFor();
    await recordDrainBanner();

    const stopped = app.stop('SIGTERM');
    // The notice may show only briefly (the drain and the first retry are quick): the log keeps it.
    await page.waitForFunction('window.drainLog.some((change) => !change.hidden)');
    await page.screenshot({ path: '/tmp/demo-draining.png' });
    expect(await stopped).toBe(0);
    await page.locator('#status[data-state="unreachable"]').waitFor();

    expect(await page.evaluate('window.drainLog')).toContainEqual({
      hidden: false,
      text: 'This server is restarting or shutting down; reconnecting…',
    });
    expect(await page.locator('#draining').isHidden()).toBe(true);
    expect(await page.locator('#presence').getAttribute('data-known')).toBe('false');
    expect(await page.getByTestId('presence-state').textContent()).toBe('last known');
    expect(await page.locator('[data-testid="presence-user"]').allTextContents()).toEqual([
      'Alice',
      'Bob',
    ]);
    const lobby = page.locator('[data-testid="room"][data-room="lobby"]');
    expect(await lobby.getAttribute('data-joined')).toBe('unknown');
    expect(await lobby.getByTestId('room-state').textContent()).toBe('rejoins when connected');
    expect(await page.locator('#send').isDisabled()).toBe(true);
    await page.screenshot({ path: '/tmp/demo-down.png' });

    // Back with another JWT_SECRET.
    devTokenRequests.length = 0;
    app = await spawnApp({ NODE_ENV: 'test', JWT_SECRET: SECRET_B, PORT: port });

    await page.locator('#status[data-state="connected"]').waitFor();
    await page.locator('[data-testid="room"][data-room="lobby"][data-joined="true"]').waitFor();
    expect(await page.locator('#feedback').textContent()).toBe(
      'The server turned the token down (invalid_signature): the page minted a new development token for Alice.',
    );
    expect(devTokenRequests).toEqual(['POST']);
    expect(await page.locator('#draining').isHidden()).toBe(true);
    expect(await page.locator('#presence').getAttribute('data-known')).toBe('true');
    expect(await page.locator('[data-testid="presence-user"]').allTextContents()).toEqual([
      'Alice',
    ]);

    const bob = await peer('bob', 'Bob', 'lobby', { url: app.url, secret: SECRET_B });
    await page.locator('#presence [data-user-id="bob"]').waitFor();
    await bob
      .timeout(5000)
      .emitWithAck(ChatEvent.MessageSend, { room: 'lobby', text: 'you are back' });
    await page.getByTestId('message').filter({ hasText: 'you are back' }).waitFor();
    const received = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    await page.fill('#message-text', 'so I am');
    await page.click('#send');
    expect(await received).toMatchObject({ text: 'so I am', from: { id: 'alice', name: 'Alice' } });
    await page.locator('.message.own', { hasText: 'so I am' }).waitFor();
    await page.screenshot({ path: '/tmp/demo-back.png' });

    // Back with a configured JWT_SECRET.
    expect(await app.stop('SIGKILL')).toBeNull();
    await page.locator('#status[data-state="unreachable"]').waitFor();
    devTokenRequests.length = 0;
    app = await spawnApp({
      NODE_ENV: 'development',
      LOG_FORMAT: 'json',
      JWT_SECRET: SECRET_C,
      PORT: port,
    });

    const status = page.locator('#status[data-state="unauthorized"]');
    await status.waitFor();
    expect(await status.textContent()).toBe(
      'unauthorized (invalid_signature): a new token is needed',
    );
    expect(await page.locator('#feedback[data-kind="error"]').textContent()).toBe(
      'The server refused the token (invalid_signature); a new one is needed. This server has a ' +
        'configured JWT_SECRET (or JWKS) and mints no dev tokens; paste a token from "npm run token", then Connect.',
    );
    expect(devTokenRequests).toEqual(['POST']);
    expect(await page.locator('#draining').isHidden()).toBe(true);
    expect(await page.locator('#presence').getAttribute('data-known')).toBe('false');
    await page.screenshot({ path: '/tmp/demo-refused.png' });

    await page.fill('#token', await mintToken({ secret: SECRET_C, sub: 'alice', name: 'Alice' }));
    await page.click('#connect');
    await page.locator('[data-testid="room"][data-room="lobby"][data-joined="true"]').waitFor();
    expect(devTokenRequests).toEqual(['POST']);
  });
});
