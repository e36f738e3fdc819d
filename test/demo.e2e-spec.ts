import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type PresenceChange,
  type PresenceUpdated,
  type PresentUser,
  type TypingChange,
} from '../src/chat/chat.events.js';
import { ChatService } from '../src/chat/chat.service.js';
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
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';
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
  await stopAllRedis();
});
afterEach(() => closeAllClients());

let rooms = 0;
/** A room no other test uses: the server, and so every room's history, is shared. */
const newRoom = (label: string): string => `${label}-${++rooms}`;

async function newPage(): Promise<Page> {
  const opened = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  opened.setDefaultTimeout(UI_TIMEOUT_MS);
  return opened;
}

/** Types a name and presses Enter: the page mints a dev token and lands in #lobby. */
async function signIn(name: string, { url = server.url, on = page } = {}): Promise<void> {
  await on.goto(url);
  await on.fill('#name', name);
  await on.press('#name', 'Enter');
  await on.locator('#status[data-state="connected"]').waitFor();
  await on.locator('[data-testid="room"][data-room="lobby"][data-joined="true"]').waitFor();
}

/** Pastes a token under "Advanced" and connects with it. */
async function connectWithToken(token: string, on = page): Promise<void> {
  if ((await on.locator('#advanced').getAttribute('open')) === null)
    await on.click('#advanced summary');
  await on.fill('#token', token);
  await on.click('#connect');
}

async function openRoom(room: string, on = page): Promise<void> {
  await on.fill('#room', room);
  await on.click('#join');
  await on.locator(`[data-testid="room"][data-room="${room}"][aria-current="true"]`).waitFor();
}

/** The bell once it shows `count` unread (the server's count has come). */
function bell(on: Page, count: number): Locator {
  return on.locator(`#inbox-toggle[data-count="${count}"]`);
}

/** The texts of the messages the open conversation shows, top to bottom. */
function shownTexts(on = page): Promise<string[]> {
  return on.locator('#messages [data-testid="message-text"]').allTextContents();
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

async function say(socket: Socket, room: string, text: string): Promise<void> {
  const ack = (await socket
    .timeout(5000)
    .emitWithAck(ChatEvent.MessageSend, { room, text })) as Ack;
  expect(ack).toMatchObject({ ok: true });
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

  it('signs in with a name and Enter, lands in #lobby, shows a peer arrive in presence and exchanges messages both ways, its own on the right', async () => {
    await page.goto(server.url);
    await page.screenshot({ path: '/tmp/demo-sign-in.png' });
    await signIn('Alice');
    expect(await page.locator('#me-name').textContent()).toBe('Alice');

    const bob = await peer('bob', 'Bob', 'lobby');
    const bobInPresence = page.locator('[data-testid="presence-user"][data-user-id="bob"]');
    expect(await bobInPresence.getByTestId('presence-name').textContent()).toBe('Bob');
    await page.getByTestId('system-line').filter({ hasText: 'Bob joined' }).waitFor();

    const hostile = 'hello from <b>bob</b> & <img src=x onerror=alert(1)>';
    await say(bob, 'lobby', hostile);
    const shown = page.getByTestId('message').filter({ hasText: hostile });
    await shown.waitFor();
    expect(await shown.getByTestId('message-text').textContent()).toBe(hostile);
    expect(await page.locator('#messages b, #messages img').count()).toBe(0);

    const received = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    await page.fill('#message-text', 'hi Bob');
    await page.press('#message-text', 'Enter');
    expect(await received).toMatchObject({
      room: 'lobby',
      text: 'hi Bob',
      from: { id: 'alice', name: 'Alice' },
    });
    const own = page.locator('.message.own', { hasText: 'hi Bob' });
    await own.waitFor();
    await page.locator('.message.own:not([data-sent])', { hasText: 'hi Bob' }).waitFor();
    const ownBox = (await own.locator('.bubble').boundingBox())!;
    const theirBox = (await shown.locator('.bubble').boundingBox())!;
    expect(ownBox.x).toBeGreaterThan(theirBox.x + theirBox.width);
    expect(await page.inputValue('#message-text')).toBe('');

    bob.disconnect();
    await page.getByTestId('system-line').filter({ hasText: 'Bob left' }).waitFor();
    await page.screenshot({ path: '/tmp/demo.png' });
  });

  it('shows the last messages of a room when it opens: a late joiner sees what was said before', async () => {
    const room = newRoom('history');
    const bob = await peer('bob', 'Bob', room);
    for (const text of ['first', 'second', 'third']) await say(bob, room, text);

    await signIn('Alice');
    await openRoom(room);
    await page.getByTestId('message').filter({ hasText: 'third' }).waitFor();
    expect(await shownTexts()).toEqual(['first', 'second', 'third']);
    expect(await page.locator('#room-title').textContent()).toBe(`#${room}`);
  });

  // The server ends a typing state that is not renewed with the same `typing: false` as a stop
  // (typing.service.spec.ts), so the stop below covers it too.
  it('shows who is typing, and clears it when their typing ends and on their message', async () => {
    const room = newRoom('typing');
    const bob = await peer('bob', 'Bob', room);
    await signIn('Alice');
    await openRoom(room);
    const line = page.getByTestId('typing');

    // Each start goes once the page has seen the event before it: the server sends typing
    // volatile, and drops one while the page's connection is still writing the last.
    bob.emit(ChatEvent.TypingStart, { room });
    await page.locator('#typing', { hasText: 'Bob is typing…' }).waitFor();
    await page.screenshot({ path: '/tmp/demo-typing.png' });
    bob.emit(ChatEvent.TypingStop, { room });
    await page.locator('#typing:empty').waitFor();

    bob.emit(ChatEvent.TypingStart, { room });
    await page.locator('#typing', { hasText: 'Bob is typing…' }).waitFor();
    await say(bob, room, 'done typing');
    await page.getByTestId('message').filter({ hasText: 'done typing' }).waitFor();
    expect(await line.textContent()).toBe('');

    // The page's own typing, and its end when the message goes.
    const typing = waitFor<TypingChange>(bob, ChatEvent.Typing, { match: (c) => c.typing });
    await page.locator('#message-text').pressSequentially('hel');
    expect(await typing).toEqual({ room, user: { id: 'alice', name: 'Alice' }, typing: true });
    const stopped = waitFor<TypingChange>(bob, ChatEvent.Typing, { match: (c) => !c.typing });
    await page.press('#message-text', 'Enter');
    expect(await stopped).toMatchObject({ room, typing: false });
  });

  it('sets a status that the others see, and shows theirs next to their names', async () => {
    const room = newRoom('status');
    await signIn('Alice');
    await openRoom(room);
    const bob = await peer('bob', 'Bob', room);
    await page.locator('[data-testid="presence-user"][data-user-id="bob"]').waitFor();

    const updated = waitFor<PresenceUpdated>(bob, ChatEvent.PresenceUpdated);
    await page.selectOption('#my-status', 'away');
    expect(await updated).toEqual({
      room,
      user: { id: 'alice', name: 'Alice' },
      state: { status: 'away' },
    });
    const listed = (await bob.timeout(5000).emitWithAck(ChatEvent.PresenceList, { room })) as Ack<{
      users: PresentUser[];
    }>;
    expect(listed).toMatchObject({
      ok: true,
      users: expect.arrayContaining([{ id: 'alice', name: 'Alice', state: { status: 'away' } }]),
    });
    const me = page.locator('[data-testid="presence-user"][data-user-id="alice"]');
    await me.getByTestId('presence-status').filter({ hasText: 'away' }).waitFor();

    await bob
      .timeout(5000)
      .emitWithAck(ChatEvent.PresenceUpdate, { room, state: { status: 'busy' } });
    const bobEntry = page.locator('[data-testid="presence-user"][data-user-id="bob"]');
    await bobEntry.getByTestId('presence-status').filter({ hasText: 'in a call' }).waitFor();
    expect(await bobEntry.locator('.dot').getAttribute('data-status')).toBe('busy');

    // A room opened later gets the status too.
    const later = newRoom('status-later');
    const watcher = await peer('bob', 'Bob', later);
    const told = waitFor<PresenceUpdated>(watcher, ChatEvent.PresenceUpdated);
    await openRoom(later);
    expect((await told).state).toEqual({ status: 'away' });
    await page.screenshot({ path: '/tmp/demo-status.png' });
  });

  it('opens a direct conversation from the presence list; a third user who opens it is refused and sees none of it', async () => {
    const bob = await peer('bob', 'Bob', 'lobby');
    await signIn('Alice');
    const bobEntry = page.locator('[data-testid="presence-user"][data-user-id="bob"]');
    await bobEntry.getByTestId('open-dm').click();
    await page
      .locator('[data-testid="room"][data-room="dm:alice:bob"][aria-current="true"]')
      .waitFor();
    expect(await page.locator('#room-title').textContent()).toBe('@Bob');

    const dm = 'dm:alice:bob';
    expect(await bob.timeout(5000).emitWithAck(ChatEvent.RoomJoin, { room: dm })).toMatchObject({
      ok: true,
    });
    const received = waitFor<ChatMessage>(bob, ChatEvent.MessageNew);
    await page.fill('#message-text', 'just between us');
    await page.press('#message-text', 'Enter');
    expect(await received).toMatchObject({ room: dm, text: 'just between us' });
    await say(bob, dm, 'sure');
    await page.getByTestId('message').filter({ hasText: 'sure' }).waitFor();
    expect(await shownTexts()).toEqual(['just between us', 'sure']);
    await page.screenshot({ path: '/tmp/demo-dm.png' });

    const carol = await newPage();
    try {
      await signIn('Carol', { on: carol });
      await carol.fill('#room', dm);
      await carol.click('#join');
      const refusal = carol.getByTestId('room-refused');
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain('This conversation is private.');
      expect(await refusal.textContent()).toContain(`FORBIDDEN: Not allowed in "${dm}"`);
      expect(await carol.locator('#messages [data-testid="message"]').count()).toBe(0);
      expect(await carol.locator(`[data-testid="room"][data-room="${dm}"]`).count()).toBe(0);
      await carol.screenshot({ path: '/tmp/demo-dm-refused.png' });
      // Back to a room it may open: the refusal goes.
      await carol.getByTestId('select-room').filter({ hasText: '#lobby' }).click();
      await carol.locator('[data-testid="room-refused"]').waitFor({ state: 'detached' });
    } finally {
      await carol.close();
    }
  });

  it('shows a room the server refuses in place of the conversation', async () => {
    await signIn('Alice');
    await page.fill('#room', 'user:bob');
    await page.click('#join');
    const refusal = page.getByTestId('room-refused');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain(
      'FORBIDDEN: Rooms starting with "user:" are reserved',
    );
  });

  it('a message whose ack was lost is sent again with the same clientMsgId and shown once', async () => {
    const room = newRoom('retry');
    const bob = await peer('bob', 'Bob', room);
    await signIn('Alice');
    await openRoom(room);
    const received: ChatMessage[] = [];
    bob.on(ChatEvent.MessageNew, (message: ChatMessage) => received.push(message));

    // The first send is stored and delivered, then the connection drops before its ack.
    const chat = server.app.get(ChatService);
    const send = chat.send.bind(chat);
    const clientMsgIds: (string | undefined)[] = [];
    const spy = jest.spyOn(chat, 'send').mockImplementation(async (socket, payload) => {
      clientMsgIds.push(payload.clientMsgId);
      const ack = await send(socket, payload);
      if (clientMsgIds.length === 1) socket.conn.close();
      return ack;
    });
    try {
      await page.fill('#message-text', 'only once');
      await page.press('#message-text', 'Enter');
      await page.locator('.message.own:not([data-sent])', { hasText: 'only once' }).waitFor();
      await page
        .locator('[data-testid="room"][data-room="' + room + '"][data-joined="true"]')
        .waitFor();
    } finally {
      spy.mockRestore();
    }
    expect(clientMsgIds.length).toBeGreaterThanOrEqual(2);
    expect(new Set(clientMsgIds).size).toBe(1);
    await say(bob, room, 'got it');
    await page.getByTestId('message').filter({ hasText: 'got it' }).waitFor();
    expect(await shownTexts()).toEqual(['only once', 'got it']);
    expect(received.map((message) => message.text)).toEqual(['only once']);
  });

  it('shows unauthorized with the reason when the token does not verify', async () => {
    await page.goto(server.url);
    const forged = await mintToken({
      secret: 'not-the-server-secret-0123456789-0123456789',
      sub: 'mallory',
    });
    await connectWithToken(forged);
    const status = page.locator('#status[data-state="unauthorized"]');
    await status.waitFor();
    expect(await status.textContent()).toBe(
      'unauthorized (invalid_signature): a new token is needed',
    );
    // Never accepted and not minted here: the page does not swap in a token of its own.
    expect(await page.locator('#feedback[data-kind="error"]').textContent()).toBe(
      'The server refused the token (invalid_signature); a new one is needed. ' +
        'Enter your name for a development token, or paste another token.',
    );
    expect(await page.inputValue('#token')).toBe(forged);
    expect(await page.locator('#token').isVisible()).toBe(true);
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
    await connectWithToken(shortLived);
    await page.locator('#status[data-state="connected"]').waitFor();
    await page.locator('[data-testid="room"][data-room="lobby"][data-joined="true"]').waitFor();

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

  it('a bell counts the unread notifications in every tab of the user; the inbox reads as text; reading in one tab clears the badge in the other', async () => {
    const other = await newPage();
    try {
      await signIn('Dana');
      await signIn('Dana', { on: other });
      for (const tab of [page, other]) await bell(tab, 0).waitFor();
      const notifications = server.app.get(NotificationsService);
      await notifications.notifyUser('dana', 'invoice.paid', { invoiceId: 'inv_42', amount: 120 });
      await notifications.notifyUser('dana', 'comment.added', { message: 'Bob: looks good to me' });
      await notifications.notifyUser('dana', 'order.shipped', { orderId: 'ord_9', carrier: 'DHL' });
      for (const tab of [page, other]) {
        await bell(tab, 3).waitFor();
        expect(await tab.getByTestId('unread-badge').textContent()).toBe('3');
        expect(await tab.locator('#inbox-toggle').getAttribute('aria-label')).toBe(
          'Notifications, 3 unread',
        );
        expect(await tab.locator('#unread-status').textContent()).toBe('3 unread notifications');
      }
      await other.screenshot({ path: '/tmp/demo-bell-3.png' });

      await page.click('#inbox-toggle');
      const texts = page.getByTestId('inbox-text');
      await texts.nth(2).waitFor();
      expect(await texts.allTextContents()).toEqual([
        'order.shipped — order ord_9, carrier DHL',
        'comment.added — Bob: looks good to me',
        'invoice.paid — invoice inv_42, amount 120',
      ]);
      expect(await page.locator('#inbox-list time').allTextContents()).toEqual([
        'just now',
        'just now',
        'just now',
      ]);
      expect(await page.locator('#inbox-list [data-read="false"]').count()).toBe(3);
      expect(await page.locator('#inbox-summary').textContent()).toBe('3 unread');
      await page.screenshot({ path: '/tmp/demo-bell-open.png' });

      await page.getByRole('button', { name: 'Unread: comment.added' }).click();
      await page.locator('[data-read="true"]', { hasText: 'comment.added' }).waitFor();
      for (const tab of [page, other]) await bell(tab, 2).waitFor();

      await page.click('#mark-all-read');
      await bell(other, 0).waitFor();
      expect(await other.getByTestId('unread-badge').isHidden()).toBe(true);
      await page.locator('#inbox-list:not(:has([data-read="false"]))').waitFor();
      await bell(page, 0).waitFor();
      expect(await page.locator('#mark-all-read').isDisabled()).toBe(true);
      expect(await page.locator('#inbox-summary').textContent()).toBe('all read');
      await page.screenshot({ path: '/tmp/demo-bell-read.png' });
      await other.screenshot({ path: '/tmp/demo-bell-cleared.png' });
    } finally {
      await other.close();
    }
  });

  it('counts a notification sent while the user had no page open once a page opens', async () => {
    await signIn('Erin');
    await bell(page, 0).waitFor();
    await page.close();

    await server.app
      .get(NotificationsService)
      .notifyUser('erin', 'invoice.overdue', { invoiceId: 'inv_7', daysLate: 3 });
    page = await newPage();
    await signIn('Erin');
    await bell(page, 1).waitFor();
    await page.click('#inbox-toggle');
    await page
      .locator('[data-testid="inbox-item"][data-read="false"]', {
        hasText: 'invoice.overdue — invoice inv_7, days late 3',
      })
      .waitFor();
    await page.screenshot({ path: '/tmp/demo-bell-while-away.png' });
  });

  it('sends a test notification from the open inbox with the development button; new ones come in at the top, unread', async () => {
    await signIn('Frank');
    await bell(page, 0).waitFor();
    await page.click('#inbox-toggle');
    await page.locator('#inbox-list[data-empty="No notifications yet."]').waitFor();
    await page.click('#send-test-notification');
    await page
      .locator('[data-testid="inbox-item"][data-read="false"]', {
        hasText: 'demo.test — A test notification from POST /dev/notify',
      })
      .waitFor();
    await bell(page, 1).waitFor();
    await page.locator('#feedback', { hasText: 'Sent a test notification (demo.test)' }).waitFor();

    await server.app
      .get(NotificationsService)
      .notifyUser('frank', 'invoice.paid', { invoiceId: 'inv_42' });
    await bell(page, 2).waitFor();
    await page.getByTestId('inbox-text').nth(1).waitFor();
    expect(await page.getByTestId('inbox-text').allTextContents()).toEqual([
      'invoice.paid — invoice inv_42',
      'demo.test — A test notification from POST /dev/notify',
    ]);
    await page.screenshot({ path: '/tmp/demo-bell-dev.png' });
  });

  it('on a server with a configured JWT_SECRET, says so instead of minting or notifying', async () => {
    const configured = await startApp({ env: { NODE_ENV: 'development' } });
    try {
      await page.goto(configured.url);
      await page.fill('#name', 'Alice');
      await page.press('#name', 'Enter');
      await page
        .locator('#feedback[data-kind="error"]', {
          hasText:
            'Cannot sign in: this server has a configured JWT_SECRET (or JWKS) and mints no dev tokens; paste a token from "npm run token".',
        })
        .waitFor();
      expect(await page.locator('#token').isVisible()).toBe(true);
      await page.screenshot({ path: '/tmp/demo-configured-secret.png' });
      await connectWithToken(await configured.token('alice', { name: 'Alice' }));
      await bell(page, 0).waitFor();
      await page.click('#inbox-toggle');
      await page.click('#send-test-notification');
      await page
        .locator('#feedback[data-kind="error"]', {
          hasText: 'Cannot send a test notification: this server has a configured JWT_SECRET',
        })
        .waitFor();
    } finally {
      await configured.close();
    }
  });

  it('after a dropped connection it shows the reconnect attempt and joins its rooms again', async () => {
    await signIn('Alice');
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

    await say(bob, 'lobby', 'welcome back');
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
    // An operator's restart: the page is told, and let go over a short drain.
    app = await spawnApp({ NODE_ENV: 'test', JWT_SECRET: SECRET_A, SHUTDOWN_DRAIN_MS: '1000' });
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
    await signIn('Alice', { url: app.url });
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
    expect(await page.getByTestId('presence-name').allTextContents()).toEqual(['Alice', 'Bob']);
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
    expect(await page.getByTestId('presence-name').allTextContents()).toEqual(['Alice']);

    const bob = await peer('bob', 'Bob', 'lobby', { url: app.url, secret: SECRET_B });
    await page.locator('#presence [data-user-id="bob"]').waitFor();
    await say(bob, 'lobby', 'you are back');
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
        'configured JWT_SECRET (or JWKS) and mints no dev tokens; paste a token from "npm run token".',
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

/**
 * Two instances on one Redis, which keeps the rooms' history: the page's instance restarts
 * while a peer on the other one goes on talking.
 */
describe('when the server restarts while the others go on talking', () => {
  let instances: SpawnedApp[] = [];
  let restarted: SpawnedApp | undefined;

  beforeAll(() => {
    if (!redisAvailable())
      throw new Error('redis-server is not on PATH: apt-get install redis-server');
  });
  beforeEach(async () => {
    page = await newPage();
  });
  afterEach(async () => {
    await page.close();
    for (const app of [...instances, restarted]) await app?.stop('SIGKILL');
  });

  it('the page joins its rooms again with since: what was said while it was away appears once, in order', async () => {
    const redis = await startRedis();
    const env = { NODE_ENV: 'test', JWT_SECRET: SECRET_A, REDIS_URL: redis.url };
    instances = await Promise.all([spawnApp(env), spawnApp(env)]);
    const [home, other] = instances;
    const room = newRoom('resume');
    // What the page sends with room:join, read from its WebSocket frames (`42/chat,<id>[…]`).
    const joins: unknown[] = [];
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        if (typeof payload !== 'string' || !payload.startsWith('42/chat,')) return;
        const [event, body] = JSON.parse(payload.slice(payload.indexOf('['))) as [string, unknown];
        if (event === ChatEvent.RoomJoin) joins.push(body);
      }),
    );
    // The resume the page runs is the client package's build, loaded through the import map.
    const modules: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 200 || response.status() === 304)
        modules.push(new URL(response.url()).pathname);
    });

    await signIn('Alice', { url: home.url });
    await openRoom(room);
    const bob = await peer('bob', 'Bob', room, { url: other.url, secret: SECRET_A });
    for (const text of ['before 1', 'before 2']) await say(bob, room, text);
    await page.getByTestId('message').filter({ hasText: 'before 2' }).waitFor();

    expect(await home.stop('SIGTERM')).toBe(0);
    await page.locator('#status[data-state="unreachable"]').waitFor();
    for (const text of ['away 1', 'away 2', 'away 3']) await say(bob, room, text);
    await page.screenshot({ path: '/tmp/demo-away.png' });

    joins.length = 0;
    restarted = await spawnApp({ ...env, PORT: new URL(home.url).port });
    await page.locator(`[data-testid="room"][data-room="${room}"][data-joined="true"]`).waitFor();
    await page.getByTestId('message').filter({ hasText: 'away 3' }).waitFor();
    await say(bob, room, 'after');
    await page.getByTestId('message').filter({ hasText: 'after' }).waitFor();

    expect(await shownTexts()).toEqual([
      'before 1',
      'before 2',
      'away 1',
      'away 2',
      'away 3',
      'after',
    ]);
    expect(await page.getByTestId('system-line').allTextContents()).not.toContain(
      'Some earlier messages are no longer available; the latest follow.',
    );
    expect(joins).toContainEqual({ room, since: { offset: 2, epoch: expect.any(String) } });
    expect(modules).toEqual(
      expect.arrayContaining([
        '/client/client/src/chat-rooms.js',
        '/client/client/src/room-resume.js',
        '/vendor/socket.io.esm.min.js',
      ]),
    );
    await page.screenshot({ path: '/tmp/demo-resumed.png' });
  });
});
