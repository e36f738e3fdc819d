/**
 * The Socket.IO admin UI at /admin: two instances joined through Redis, chat sockets on both,
 * a real Chromium signing in on one and seeing both; basic auth only on /admin, the JWT check
 * kept everywhere else; with the variables unset, no page and no namespace.
 */
import bcrypt from 'bcryptjs';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { CHAT_NAMESPACE } from '../src/chat/chat.events.js';
import { NOTIFICATIONS_NAMESPACE } from '../src/notifications/notifications.events.js';
import { startApp, type TestApp } from './support/app-harness.js';
import {
  closeAllClients,
  connectClient,
  connectError,
  createClient,
  waitFor,
} from './support/clients.js';
import { chatClient, startInstances } from './support/cluster-harness.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';

const ADMIN = '/admin';
const USER = 'ops';
const PASSWORD = 'correct horse battery staple';
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const UI_TIMEOUT_MS = 10_000;

/** What each instance sends the admin namespace every 2 s (the fields read here). */
interface ServerStats {
  readonly serverId: string;
  readonly namespaces: readonly { name: string; socketsCount: number }[];
}

/** Connects to /admin with `auth`; resolves once connected. */
async function signIn(app: TestApp, auth: object): Promise<Socket> {
  const socket = createClient(app.url, ADMIN, { auth });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** The latest stats of every instance, once `done` accepts them. */
async function statsOfEveryInstance(
  socket: Socket,
  done: (stats: ReadonlyMap<string, ServerStats>) => boolean,
): Promise<ReadonlyMap<string, ServerStats>> {
  const latest = new Map<string, ServerStats>();
  await waitFor<ServerStats>(socket, 'server_stats', {
    timeoutMs: 10_000,
    match: (stats) => done(latest.set(stats.serverId, stats)),
  });
  return latest;
}

/** The dashboard's charts animate in: waits until the first one draws the same twice running. */
async function chartsSettled(page: Page): Promise<void> {
  await page.waitForFunction(
    `(() => {
      const drawn = document.querySelector('canvas')?.toDataURL();
      const same = drawn !== undefined && drawn === window.lastChart;
      window.lastChart = drawn;
      return same;
    })()`,
    undefined,
    { polling: 250 },
  );
}

let browser: Browser;

beforeAll(async () => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await stopAllRedis();
});

/** A page in a context of its own (its own local storage), recording what it requests. */
async function newPage(): Promise<{ page: Page; requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  return { page, requests };
}

/** Fills the sign-in form the page opens with, and connects. */
async function submitSignIn(page: Page, password: string): Promise<void> {
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Connect' }).click();
}

const connectedChip = (page: Page) => page.getByText(/^connected$/i).filter({ visible: true });

// With `streams` the sockets have connection state recovery, which changes when the UI's
// session id reaches it.
describe.each(['pubsub', 'streams'] as const)(
  'with the admin UI on two instances (%s)',
  (adapter) => {
    let apps: TestApp[];

    beforeAll(async () => {
      const redis = await startRedis();
      apps = await startInstances(2, {
        REDIS_URL: redis.url,
        REDIS_ADAPTER: adapter,
        ADMIN_UI_USER: USER,
        ADMIN_UI_PASSWORD_HASH: bcrypt.hashSync(PASSWORD, 10),
      });
      // Three chat sockets on the first instance, two on the second, open throughout.
      for (const [i, count] of [3, 2].entries())
        for (let n = 0; n < count; n++) await chatClient(apps[i], `user-${i}-${n}`);
    });
    afterAll(async () => {
      closeAllClients();
      await Promise.all((apps ?? []).map((app) => app.close()));
    });

    const admins: Socket[] = [];
    afterEach(() => admins.splice(0).forEach((socket) => socket.disconnect()));

    it('serves the page from the installed package, with its links kept on this server', async () => {
      const [app] = apps;
      const bare = await fetch(`${app.url}${ADMIN}`, { redirect: 'manual' });
      expect(bare.status).toBe(301);
      expect(bare.headers.get('location')).toBe('admin/');
      const page = await fetch(`${app.url}${ADMIN}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      const html = await page.text();
      expect(html).toContain('Socket.IO Admin UI');
      expect(html).not.toMatch(/https?:\/\//);
      for (const file of ['connect-defaults.js', 'mdi/css/materialdesignicons.min.css'])
        expect((await fetch(`${app.url}${ADMIN}/${file}`)).status).toBe(200);
    });

    it('a browser signs in with the password and sees both instances and their sockets', async () => {
      const probe = await signIn(apps[1], { username: USER, password: PASSWORD });
      const chatSockets = ({ namespaces }: ServerStats) =>
        namespaces.find(({ name }) => name === CHAT_NAMESPACE)?.socketsCount;
      // With streams an instance's first stats, sent as it started (before the gateways'
      // namespaces), can arrive late: wait for both instances' current ones.
      const stats = await statsOfEveryInstance(
        probe,
        (latest) =>
          latest.size === 2 &&
          [...latest.values()].every((each) => chatSockets(each) !== undefined),
      );
      expect([...stats.values()].map(chatSockets).sort()).toEqual([2, 3]);
      const ids = [...stats.keys()];
      const idWithChatSockets = (count: number) =>
        [...stats.values()].find((each) => chatSockets(each) === count)!.serverId;
      probe.disconnect();

      const { page, requests } = await newPage();
      await page.goto(`${apps[0].url}${ADMIN}`);
      // Pointed at this server out of the box, and nothing to complain about yet.
      await expect(page.getByLabel('Server URL').inputValue()).resolves.toBe(apps[0].url);
      await expect(page.getByText(/invalid credentials|error/i).count()).resolves.toBe(0);
      await submitSignIn(page, PASSWORD);
      await connectedChip(page).waitFor();

      // The dashboard adds up both instances: the five chat sockets, the UI's own socket.
      const namespaceRow = (name: string) => page.locator('tr', { hasText: name });
      await namespaceRow(CHAT_NAMESPACE).getByText('5', { exact: true }).waitFor();
      await namespaceRow(ADMIN).getByText('1', { exact: true }).waitFor();
      await page.getByText('Healthy', { exact: true }).filter({ visible: true }).waitFor();
      await page.getByText('Connection', { exact: true }).waitFor({ state: 'hidden' });
      await chartsSettled(page);
      await page.screenshot({ path: `/tmp/admin-dashboard-${adapter}.png` });

      await page.getByRole('link', { name: 'Servers' }).click();
      // One row per instance with its engine.io clients: the first one's three chat sockets
      // and the UI's own connection, the second one's two chat sockets.
      const serverRow = (id: string) => page.locator('tr', { hasText: id });
      for (const [chat, clients] of [
        [3, 4],
        [2, 2],
      ])
        await serverRow(idWithChatSockets(chat))
          .locator('td')
          .nth(4)
          .filter({ hasText: new RegExp(`^\\s*${clients}\\s*$`) })
          .waitFor();
      await page.screenshot({ path: `/tmp/admin-servers-${adapter}.png` });

      const foreign = requests.filter((url) => !url.startsWith(`${apps[0].url}/`));
      expect(foreign).toEqual([]);

      // The UI kept the session id it was given: a reload needs no password.
      await page.reload();
      await connectedChip(page).waitFor();
      for (const id of ids) await serverRow(id).waitFor();
      await page.screenshot({ path: `/tmp/admin-reloaded-${adapter}.png` });
      await page.context().close();
    });

    it('a wrong password is refused, in the page and on the wire', async () => {
      const { page } = await newPage();
      await page.goto(`${apps[0].url}${ADMIN}/`);
      await submitSignIn(page, 'not the password');
      await page.getByText('Invalid credentials').waitFor();
      await page.screenshot({ path: `/tmp/admin-wrong-password-${adapter}.png` });
      await page.context().close();

      for (const auth of [
        { username: USER, password: 'not the password' },
        { username: 'someone-else', password: PASSWORD },
        { sessionId: 'made-up' },
      ]) {
        const refused = await connectError(createClient(apps[0].url, ADMIN, { auth }));
        expect(refused.message).toBe('invalid credentials');
      }
    });

    it('a sign-in on one instance holds on the other (sessions kept in Redis)', async () => {
      const socket = createClient(apps[0].url, ADMIN, {
        auth: { username: USER, password: PASSWORD },
      });
      const sessionId = await waitFor<string>(socket, 'session');
      admins.push(socket);
      expect(sessionId).toMatch(/^[0-9a-f]{16}$/);
      admins.push(await signIn(apps[1], { sessionId }));
    });

    it('credentials of the wrong shape are refused before the password check', async () => {
      // bcryptjs rejects a password that is not a string, and the UI's check does not catch it.
      for (const auth of [{ username: USER }, { username: USER, password: 42 }, {}]) {
        const refused = await connectError(createClient(apps[0].url, ADMIN, { auth }));
        expect(refused.data).toEqual({ code: 'UNAUTHORIZED', reason: 'missing_credentials' });
      }
      admins.push(await signIn(apps[0], { username: USER, password: PASSWORD }));
    });

    it('every other namespace keeps its JWT check', async () => {
      for (const namespace of [CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE]) {
        const socket = createClient(apps[0].url, namespace, {
          auth: { username: USER, password: PASSWORD },
        });
        const refused = await connectError(socket);
        expect(refused.data).toEqual({ code: 'UNAUTHORIZED', reason: 'missing_token' });
      }
    });
  },
);

describe('on one instance without Redis that takes WebSocket only', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({
      env: {
        WS_TRANSPORTS: 'websocket',
        ADMIN_UI_USER: USER,
        ADMIN_UI_PASSWORD_HASH: bcrypt.hashSync(PASSWORD, 10),
      },
    });
  });
  afterAll(() => app?.close());

  it('the page connects out of the box, and a reload keeps the sign-in', async () => {
    const defaults = await (await fetch(`${app.url}${ADMIN}/connect-defaults.js`)).text();
    expect(defaults).toContain("localStorage.setItem('ws_only', 'true')");
    const { page } = await newPage();
    await page.goto(`${app.url}${ADMIN}/`);
    await submitSignIn(page, PASSWORD);
    await connectedChip(page).waitFor();
    await page.reload();
    await connectedChip(page).waitFor();
    await page.context().close();
  });
});

describe('with the variables unset', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    closeAllClients();
    await app?.close();
  });

  it('/admin and the UI files are a 404', async () => {
    for (const path of [ADMIN, `${ADMIN}/`, `${ADMIN}/connect-defaults.js`, `${ADMIN}/favicon.png`])
      expect((await fetch(`${app.url}${path}`, { redirect: 'manual' })).status).toBe(404);
  });

  it('the /admin namespace does not exist', async () => {
    const refused = await connectError(
      createClient(app.url, ADMIN, { auth: { username: USER, password: PASSWORD } }),
    );
    expect(refused.message).toBe('Invalid namespace');
    // The chat namespace is there, for comparison.
    await expect(
      connectClient(app.url, CHAT_NAMESPACE, { auth: { token: await app.token('someone') } }),
    ).resolves.toBeDefined();
  });
});
