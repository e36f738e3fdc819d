/**
 * The client package (`client/`), used the way an app uses it: its built output type-checks a
 * consumer (and refuses a wrong event or payload), loads in Node, and against a real server
 * it renews tokens, types refusals, and carries a room through a drain to another instance
 * without losing or repeating a message.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io-client';
import {
  type ChatMessage,
  ChatRooms,
  type ChatSocket,
  type ConnectFailure,
  connectChat,
} from '@nest-realtime-starter/client';
import { ChatEvent } from '../src/chat/chat.events.js';
import type { TestApp } from './support/app-harness.js';
import { startApp } from './support/app-harness.js';
import { ack, chatClient, startInstances } from './support/cluster-harness.js';
import { closeAllClients, waitFor } from './support/clients.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';
import { startTcpSwitch, type TcpSwitch } from './support/tcp-switch.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/client-consumer');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Every package socket a test opened: closed after each test. */
const sockets: ChatSocket[] = [];
function track(socket: ChatSocket): ChatSocket {
  sockets.push(socket);
  return socket;
}
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  closeAllClients();
});

describe('the built package', () => {
  let consumer: string;

  beforeAll(() => {
    // An app folder with the package installed as a dependency (a link to client/, whose
    // `exports` point at client/dist), as a workspace or `npm install ./client` would.
    consumer = mkdtempSync(join(tmpdir(), 'client-consumer-'));
    cpSync(FIXTURE, consumer, { recursive: true });
    const scope = join(consumer, 'node_modules/@nest-realtime-starter');
    mkdirSync(scope, { recursive: true });
    symlinkSync(join(ROOT, 'client'), join(scope, 'client'), 'dir');
  });
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it.each(['tsconfig.json', 'tsconfig.node.json'])(
    'types an app compiled with %s: typed emits compile, and every wrong event or payload is an error',
    (config) => {
      const expected = readFileSync(join(FIXTURE, 'consumer.ts'), 'utf8').match(
        /\/\/ @ts-expect-error:/g,
      );
      expect(expected).toHaveLength(5);
      const result = spawnSync(process.execPath, [TSC, '-p', join(consumer, config)], {
        encoding: 'utf8',
      });
      // An unused @ts-expect-error (a wrong line that compiled) fails here as TS2578.
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it('loads in Node as an ES module, with no DOM', () => {
    const result = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const c = await import('@nest-realtime-starter/client'); console.log(typeof c.connectChat, typeof c.ChatRooms, c.ChatEvent.MessageSend)",
      ],
      { cwd: consumer, encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('function function message:send');
  });
});

describe('token and refusals, on one instance', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: { WS_MAX_CONNECTIONS_PER_USER: '1' } });
  });
  afterAll(() => app.close());

  async function connected(socket: ChatSocket): Promise<void> {
    await waitFor(socket as unknown as Socket, 'connect');
  }

  it('asks getToken before every attempt; a token refused as expired is replaced by a fresh one at once', async () => {
    const given: string[] = [];
    const failures: ConnectFailure[] = [];
    const tokens = [await app.token('renewer', { ttlS: -60 }), await app.token('renewer')];
    const socket = track(
      connectChat(app.url, {
        getToken: () => {
          const token = tokens.shift() ?? given.at(-1)!;
          given.push(token);
          return Promise.resolve(token);
        },
        onConnectFailure: (failure) => failures.push(failure),
        connection: { reconnectionDelay: 50, reconnectionDelayMax: 100 },
      }),
    );
    await connected(socket);
    expect(given).toHaveLength(2);
    expect(failures).toEqual([]);

    // A reconnection asks again.
    const back = connected(socket);
    socket.io.engine.close();
    await back;
    expect(given).toHaveLength(3);
  });

  it('reconnects with a fresh token when the server lets the socket go at expiry', async () => {
    const tokens = [await app.token('expiring', { ttlS: 2 }), await app.token('expiring')];
    let asked = 0;
    const socket = track(
      connectChat(app.url, {
        getToken: () => {
          asked++;
          return tokens.shift() ?? '';
        },
      }),
    );
    await connected(socket);
    const reasons: string[] = [];
    socket.on('disconnect', (reason) => reasons.push(reason));
    await eventually(
      () => socket.connected && reasons.length === 1,
      (ok) => ok,
      6000,
    );
    expect(reasons).toEqual(['io server disconnect']);
    expect(asked).toBe(2);
  });

  it('a token that does not verify is refused once with its typed reason, not retried in a loop', async () => {
    let asked = 0;
    const failures: ConnectFailure[] = [];
    track(
      connectChat(app.url, {
        getToken: () => {
          asked++;
          return 'not-a-jwt';
        },
        onConnectFailure: (failure) => failures.push(failure),
      }),
    );
    await eventually(
      () => failures.length,
      (n) => n === 1,
      5000,
    );
    expect(failures[0]).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'malformed_token',
      willRetry: false,
    });
    expect(asked).toBe(1);
  });

  it('a getToken that fails is reported, and the next attempt asks again after the backoff', async () => {
    const errors: unknown[] = [];
    let asked = 0;
    const token = await app.token('flaky');
    const socket = track(
      connectChat(app.url, {
        getToken: () =>
          ++asked === 1 ? Promise.reject(new Error('refresh endpoint down')) : token,
        onTokenError: (error) => errors.push(error),
        connection: { reconnectionDelay: 50, reconnectionDelayMax: 100 },
      }),
    );
    await connected(socket);
    expect(errors.map((error) => (error as Error).message)).toEqual(['refresh endpoint down']);
    expect(asked).toBe(2);
  });

  it('past the per-user cap, the refusal is typed TOO_MANY_CONNECTIONS and not retried', async () => {
    const first = track(connectChat(app.url, { getToken: () => app.token('capped') }));
    await connected(first);
    const failures: ConnectFailure[] = [];
    track(
      connectChat(app.url, {
        getToken: () => app.token('capped'),
        onConnectFailure: (failure) => failures.push(failure),
      }),
    );
    await eventually(
      () => failures,
      (all) => all.length === 1,
      5000,
    );
    expect(failures[0]).toMatchObject({
      code: 'TOO_MANY_CONNECTIONS',
      reason: 'too_many_connections',
      willRetry: false,
    });
  });
});

describe('a drain, through a load balancer, with Redis', () => {
  let apps: TestApp[];
  let balancer: TcpSwitch;

  beforeAll(async () => {
    if (!redisAvailable())
      throw new Error('redis-server is not on PATH: apt-get install redis-server');
    const redis = await startRedis();
    apps = await startInstances(2, {
      REDIS_URL: redis.url,
      REDIS_ADAPTER: 'pubsub',
      SHUTDOWN_DRAIN_MS: '500',
    });
    balancer = await startTcpSwitch(Number(new URL(apps[0].url).port));
  });
  afterAll(async () => {
    await balancer?.close();
    await Promise.all((apps ?? []).map((app) => app.close().catch(() => undefined)));
    await stopAllRedis();
  });

  it('server:draining, then the client moves to the other instance: every message once, in order, and its own sends stored once', async () => {
    const room = 'drained-room';
    const [leaving, staying] = apps;
    const sender = await chatClient(staying, 'sender');
    await ack(sender, ChatEvent.RoomJoin, { room });

    const shown: ChatMessage[] = [];
    const draining: number[] = [];
    const token = await staying.token('mover');
    const socket = track(
      connectChat(balancer.url, {
        getToken: () => token,
        connection: { reconnectionDelay: 100, reconnectionDelayMax: 200 },
      }),
    );
    const rooms = new ChatRooms(socket, {
      joined: (_room, messages) => shown.push(...messages),
      message: (message) => shown.push(message),
      draining: (ms) => draining.push(ms),
    });
    await waitFor(socket as unknown as Socket, 'connect');
    const opened = await rooms.open(room);
    expect(opened.ok).toBe(true);

    // Traffic from the staying instance all along; the client sends too, through the move.
    let sent = 0;
    const acks: Promise<unknown>[] = [];
    const traffic = setInterval(
      () => acks.push(ack(sender, ChatEvent.MessageSend, { room, text: `from sender ${++sent}` })),
      20,
    );
    const own = Array.from({ length: 10 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 60));
      return rooms.send(room, `own ${i}`);
    });
    /** Resolves once the sender has sent `count` more messages: traffic across a step. */
    const moreTraffic = (count: number) => {
      const target = sent + count;
      return eventually(
        () => sent,
        (n) => n >= target,
        5000,
      );
    };
    balancer.switchTo(Number(new URL(staying.url).port));
    await moreTraffic(5);
    await leaving.close();
    await eventually(
      () => socket.connected,
      (ok) => ok,
      5000,
    );
    await moreTraffic(10);
    clearInterval(traffic);
    await Promise.all(acks);
    const ownAnswers = await Promise.all(own);
    const fence = await ack<{ offset: number }>(sender, ChatEvent.MessageSend, {
      room,
      text: 'fence',
    });
    if (!fence.ok) throw new Error(fence.error.code);

    expect(draining).toHaveLength(1);
    expect(ownAnswers.every((answer) => answer.ok)).toBe(true);
    await eventually(
      () => shown.at(-1)?.text,
      (text) => text === 'fence',
      5000,
    );
    // Everyone else's messages, once each, in offset order, none missing; the client's own
    // come back only through a resume page, never twice.
    const others = shown.filter((m) => m.from.id === 'sender').map((m) => m.text);
    expect(others).toEqual([
      ...Array.from({ length: sent }, (_, i) => `from sender ${i + 1}`),
      'fence',
    ]);
    expect(new Set(shown.map((m) => m.id)).size).toBe(shown.length);
    const offsets = shown.map((m) => m.offset!);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    const page = await ack<{ messages: ChatMessage[] }>(sender, ChatEvent.RoomHistory, {
      room,
      limit: 100,
    });
    if (!page.ok) throw new Error(page.error.code);
    const stored = page.messages.filter((m) => m.text.startsWith('own ')).map((m) => m.text);
    expect(stored.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `own ${i}`).sort());
  });
});
