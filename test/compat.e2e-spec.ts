/**
 * The framework internals in src/compat/, asserted on the installed versions. Run it after
 * upgrading NestJS, socket.io, engine.io or the Redis streams adapter: `npm run test:compat`.
 * A failure here names the internal that moved, before the app silently loses a fix or a gain.
 */
import { once } from 'node:events';
import { createServer, IncomingMessage, request, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FORBIDDEN_MESSAGE } from '@nestjs/core/guards/constants.js';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import { pino } from 'pino';
import { createClient } from 'redis';
import { type Namespace, Server, type Socket } from 'socket.io';
import { MessageType } from 'socket.io-adapter';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { createClusterSetup } from '../src/cluster/cluster-adapter.js';
import { RedisConnections } from '../src/cluster/redis-connections.js';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  GUARD_REFUSAL_MESSAGE,
  gatewayDeclarationOf,
  gatewayHandlersRouted,
  routeGatewayHandlers,
} from '../src/compat/nest-websockets.js';
import {
  dropUpgradeErrorListener,
  dropUpgradeResponse,
  engineClients,
  engineConnectionBuffers,
  engineQuery,
  namespacesOf,
  recoveryPid,
  replaceHandshakeRequest,
  setOnlyAnyListener,
  siblingSockets,
  writeToConnection,
} from '../src/compat/socket-io.js';
import { BROADCAST_MESSAGE, streamsAdapterInternals } from '../src/compat/streams-adapter.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, waitFor } from './support/clients.js';
import { eventually } from './support/eventually.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';

/** How long an ack may take before the test says the event went unanswered. */
const ACK_TIMEOUT_MS = 3000;

/** NestJS's own `subscribeMessages`, taken before anything in this file replaces it. */
const stockSubscribeMessages = WebSocketsController.prototype.subscribeMessages;

describe('NestJS internals', () => {
  it('WebSocketsController.subscribeMessages binds each handler to the client and hands them to the adapter', () => {
    type Bound = { message: unknown; callback: (...args: unknown[]) => unknown };
    const bound: { client: unknown; handlers: Bound[] }[] = [];
    const adapter = {
      bindMessageHandlers: (client: unknown, handlers: (typeof bound)[number]['handlers']) =>
        bound.push({ client, handlers }),
    };
    const controller = { config: { getIoAdapter: () => adapter } };
    const instance = { gateway: 'echo' } as object;
    const subscriber = {
      message: 'widget:get',
      methodName: 'get',
      callback: function (this: unknown, ...args: unknown[]) {
        return [this, ...args];
      },
      isAckHandledManually: false,
    };
    stockSubscribeMessages.call(controller, [subscriber] as never, 'client', instance);
    expect(bound).toHaveLength(1);
    const [{ client, handlers }] = bound;
    expect(client).toBe('client');
    expect(handlers[0].message).toBe('widget:get');
    // Bound as NestJS binds it: the gateway as `this`, the client first.
    expect(handlers[0].callback('data', 'ack')).toEqual([instance, 'client', 'data', 'ack']);
  });

  it('routeGatewayHandlers replaces it: routed adapters get the handler list, others the stock path', () => {
    const routed: unknown[] = [];
    expect(
      routeGatewayHandlers((adapter, client, instance, subscribers) => {
        if (adapter !== 'ours') return false;
        routed.push({ client, instance, subscribers });
        return true;
      }),
    ).toBe(true);
    expect(gatewayHandlersRouted()).toBe(true);
    const stockBound: unknown[] = [];
    const subscribers = [{ message: 'x', methodName: 'x', callback: () => undefined }];
    const call = (adapter: unknown) =>
      WebSocketsController.prototype.subscribeMessages.call(
        { config: { getIoAdapter: () => adapter } },
        subscribers as never,
        'client',
        {},
      );
    call('ours');
    call({ bindMessageHandlers: (...args: unknown[]) => stockBound.push(args) });
    expect(routed).toEqual([{ client: 'client', instance: {}, subscribers }]);
    expect(stockBound).toHaveLength(1);
  });

  it("a guard's refusal carries the message the error filter recognises", () => {
    expect(FORBIDDEN_MESSAGE).toBe(GUARD_REFUSAL_MESSAGE);
  });

  it('gatewayDeclarationOf reads what @WebSocketGateway and @SubscribeMessage recorded', () => {
    @WebSocketGateway({ namespace: '/widgets' })
    class WidgetsGateway {
      @SubscribeMessage('widget:get')
      get(): void {}

      helper(): void {}
    }
    class NotAGateway {}
    expect(gatewayDeclarationOf(WidgetsGateway)).toEqual({
      namespace: '/widgets',
      handlers: [{ event: 'widget:get', methodName: 'get' }],
    });
    expect(gatewayDeclarationOf(NotAGateway)).toBeUndefined();
  });
});

describe('Socket.IO and engine.io internals', () => {
  let http: HttpServer;
  let server: Server;
  let url: string;
  const clients: ClientSocket[] = [];
  const connected = (namespace: Namespace): Promise<Socket> =>
    once(namespace, 'connection').then(([socket]) => socket as Socket);

  beforeAll(async () => {
    http = createServer();
    server = new Server(http, { connectionStateRecovery: {} });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  /** One connection with a socket on `/` and one on `/b`. */
  async function twoNamespaces(): Promise<{ main: Socket; other: Socket; client: ClientSocket }> {
    const mainConnected = connected(server.of('/'));
    const otherConnected = connected(server.of('/b'));
    const client = io(url, { transports: ['websocket'], forceNew: true });
    const b = client.io.socket('/b');
    b.connect();
    clients.push(client, b);
    return { main: await mainConnected, other: await otherConnected, client };
  }

  it('namespaces, engine connections and their buffers, sibling sockets, the recovery pid', async () => {
    const { main, other } = await twoNamespaces();
    expect([...namespacesOf(server)].map((namespace) => namespace.name).sort()).toEqual([
      '/',
      '/b',
    ]);
    expect(Object.values(engineClients(server))).toContain(main.conn);
    const buffers = engineConnectionBuffers(server).find(
      (conn) => (conn as unknown) === main.conn,
    )!;
    expect(Array.isArray(buffers.writeBuffer)).toBe(true);
    expect(typeof buffers.transport.socket?.bufferedAmount).toBe('number');
    expect(typeof buffers.remoteAddress).toBe('string');
    expect([...siblingSockets(main)]).toEqual(expect.arrayContaining([main, other]));
    expect(typeof recoveryPid(main)).toBe('string');
  });

  it("setOnlyAnyListener is the socket's one onAny listener, and is called", async () => {
    const { main, client } = await twoNamespaces();
    const seen: unknown[] = [];
    const listener = function (this: Socket, event: string, ...args: unknown[]) {
      seen.push([this.id, event, ...args]);
    };
    setOnlyAnyListener(main, listener);
    // Socket.IO reads the very field written: its own getter sees the listener.
    expect(main.listenersAny()).toEqual([listener]);
    setOnlyAnyListener(main, listener);
    expect(main.listenersAny()).toEqual([listener]);
    client.emit('hello', 1, 'two');
    await new Promise<void>((resolve) => main.once('hello', () => resolve()));
    expect(seen).toEqual([[main.id, 'hello', 1, 'two']]);
  });

  it('writeToConnection reaches the client and reports the write', async () => {
    const { other } = await twoNamespaces();
    const b = clients.at(-1)!;
    const received = new Promise((resolve) => b.once('notice', resolve));
    const written = new Promise<void>((resolve) =>
      writeToConnection(other, 'notice', { n: 1 }, resolve),
    );
    await written;
    expect(await received).toEqual({ n: 1 });
  });

  it('a connection keeps its upgrade request, in conn.request and in a close listener on the TCP socket, and an upgrade error listener; all let go', async () => {
    const { main, client } = await twoNamespaces();
    expect(main.conn.request).toBeInstanceOf(IncomingMessage);
    expect(dropUpgradeResponse(main.conn)).toBe(true);
    // Gone: a second call finds no listener of engine.io's upgrade response.
    expect(dropUpgradeResponse(main.conn)).toBe(false);
    const ws = (main.conn.transport as unknown as { socket: NodeJS.EventEmitter }).socket;
    expect(ws.listeners('error').map((fn) => fn.name)).toContain('onUpgradeError');
    expect(dropUpgradeErrorListener(main.conn)).toBe(true);
    // The transport's own listener stays, so a WebSocket error is still handled.
    expect(ws.listeners('error')).toHaveLength(1);
    expect(dropUpgradeErrorListener(main.conn)).toBe(false);
    // Socket.IO builds a later namespace socket's handshake from these fields only.
    const kept = {
      method: 'GET',
      url: '/socket.io/?kept=1',
      headers: { 'x-kept': '1' },
      _query: { kept: '1' },
      connection: { encrypted: true },
    };
    replaceHandshakeRequest(main.conn, kept);
    expect(main.request).toBe(kept);
    const later = connected(server.of('/c'));
    const c = client.io.socket('/c');
    clients.push(c);
    c.connect();
    const { handshake } = await later;
    expect(handshake).toMatchObject({
      headers: kept.headers,
      url: kept.url,
      query: kept._query,
      secure: true,
      address: main.conn.remoteAddress,
    });
  });

  it('engine.io uses the query engineQuery left on the request', async () => {
    // The URL says an unknown transport; the parsed query says polling: engine.io follows
    // the parsed query, so a gate reading engineQuery reads what engine.io reads.
    http.prependListener('request', (req) => {
      if (req.url?.includes('transport=bogus')) {
        engineQuery(req);
        (req as typeof req & { _query: Record<string, string> })._query.transport = 'polling';
      }
    });
    const status = await new Promise<number>((resolve, reject) =>
      request(`${url}/socket.io/?EIO=4&transport=bogus`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .once('error', reject)
        .end(),
    );
    expect(status).toBe(200);
  });
});

describe('@socket.io/redis-streams-adapter internals', () => {
  beforeAll(() => {
    if (!redisAvailable())
      throw new Error('redis-server is not on PATH: apt-get install redis-server');
  });
  afterAll(() => stopAllRedis());

  it('the adapter has the methods the stream-order and recovery fixes wrap', async () => {
    const redis = await startRedis();
    // Built the way the app builds it, so its clients are owned and closed the same way.
    const connections = await RedisConnections.connect(
      { urls: [redis.url], cluster: false, adapter: 'streams' },
      pino({ level: 'silent' }),
    );
    const setup = await createClusterSetup(connections, 'streams', []);
    const server = new Server(createServer(), setup.serverOptions);
    // Its stream readers connect in the background: closed half-way, one would stay open.
    await eventually(
      () => connections.ping().then(() => 'ready', String),
      (state) => state === 'ready',
      5000,
    );
    try {
      expect(() => streamsAdapterInternals(server.of('/').adapter)).not.toThrow();
      expect(() => streamsAdapterInternals({})).toThrow(/no longer has onRawMessage/);
      expect(BROADCAST_MESSAGE).toBe(MessageType.BROADCAST);
    } finally {
      await server.close();
      await setup.close();
      // The adapter's stream readers close once their blocking read returns: wait for them,
      // so that none is left to see Redis stop.
      const admin = createClient({ url: redis.url });
      await admin.connect();
      await eventually(
        async () => (await admin.clientList()).length,
        (clients) => clients === 1,
        5000,
      );
      admin.destroy();
    }
  });
});

describe('the fast path is the one in use, and the stock path still works', () => {
  let fast: TestApp;
  let stock: TestApp;
  beforeAll(async () => {
    [fast, stock] = await Promise.all([startApp(), startApp({ routeGateways: false })]);
  });
  afterAll(async () => {
    closeAllClients();
    await Promise.all([fast.close(), stock.close()]);
  });

  it.each([
    ['shared handler tables', () => fast, true],
    ["NestJS's stock path", () => stock, false],
  ] as const)(
    '%s: join, send, validation and rate limits answer the same',
    async (_, app, routed) => {
      const [alice, bob] = await Promise.all(
        ['alice', 'bob'].map(async (sub) =>
          connectClient(app().url, CHAT_NAMESPACE, { auth: { token: await app().token(sub) } }),
        ),
      );
      expect(app().adapter.routesNamespace(CHAT_NAMESPACE)).toBe(routed);
      for (const socket of [alice, bob])
        expect(
          await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(ChatEvent.RoomJoin, { room: 'compat' }),
        ).toMatchObject({
          ok: true,
          room: 'compat',
        });
      const arrival = waitFor(bob, ChatEvent.MessageNew);
      expect(
        await alice
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck(ChatEvent.MessageSend, { room: 'compat', text: 'hi' }),
      ).toMatchObject({ ok: true });
      expect(await arrival).toMatchObject({ text: 'hi', from: { id: 'alice' } });
      expect(
        await alice.timeout(ACK_TIMEOUT_MS).emitWithAck(ChatEvent.MessageSend, { room: 'compat' }),
      ).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION' },
      });
      expect(await alice.timeout(ACK_TIMEOUT_MS).emitWithAck('no:such-event', {})).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION' },
      });
    },
  );
});
