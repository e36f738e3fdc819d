/**
 * What a socket keeps of its handshake once the connection is open (see
 * docs/PERFORMANCE.md, "What a connection keeps of its handshake"): gateways still read the
 * headers, query, address and the client's own `auth` fields; the credentials and the
 * WebSocket upgrade's own headers are gone; later namespaces on the same connection are
 * authenticated as before.
 */
import { IncomingMessage } from 'node:http';
import { Manager } from 'socket.io-client';
import type { Socket } from 'socket.io';
import { CHAT_NAMESPACE } from '../src/chat/chat.events.js';
import { NOTIFICATIONS_NAMESPACE } from '../src/notifications/notifications.events.js';
import { SocketServerRef } from '../src/socket-server/connection/socket-server-ref.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, waitFor } from './support/clients.js';

describe('what a socket keeps of its handshake', () => {
  let server: TestApp;
  const managers: Manager[] = [];

  beforeAll(async () => {
    server = await startApp();
  });
  afterEach(() => {
    closeAllClients();
    for (const manager of managers.splice(0)) manager.engine?.close();
  });
  afterAll(async () => {
    await server.close();
  });

  /** The server's side of a client socket, as a gateway gets it. */
  function serverSocket(namespace: string, id: string | undefined): Socket {
    const socket = server.app
      .get(SocketServerRef)
      .server!.of(namespace)
      .sockets.get(id ?? '');
    if (!socket) throw new Error(`no socket ${id} in ${namespace}`);
    return socket;
  }

  it('a gateway reads the headers, query and address; the token, cookie and upgrade headers are gone', async () => {
    const token = await server.token('alice');
    const client = await connectClient(server.url, CHAT_NAMESPACE, {
      extraHeaders: {
        Authorization: `Bearer ${token}`,
        Cookie: 'session=secret',
        'User-Agent': 'test-agent/1.0',
        'X-Tenant': 'acme',
      },
      query: { room: 'lobby' },
    });
    const { handshake, data, request } = serverSocket(CHAT_NAMESPACE, client.id);
    expect(handshake.headers).toMatchObject({
      host: new URL(server.url).host,
      'user-agent': 'test-agent/1.0',
      'x-tenant': 'acme',
    });
    for (const released of ['authorization', 'cookie', 'sec-websocket-key', 'upgrade'])
      expect(handshake.headers).not.toHaveProperty(released);
    expect(handshake.query).toMatchObject({ room: 'lobby', EIO: '4', transport: 'websocket' });
    expect(handshake.url).toMatch(/^\/socket\.io\/\?.*room=lobby/);
    expect(handshake.address).toBe('127.0.0.1');
    expect(handshake.secure).toBe(false);
    expect(typeof handshake.issued).toBe('number');
    expect(data).toMatchObject({ user: { id: 'alice' } });
    // `socket.request` is what the handshake was built from, not the HTTP request.
    expect(request).not.toBeInstanceOf(IncomingMessage);
    expect(request.headers).toBe(handshake.headers);
  });

  it('a token in the query is not kept in the query or the URL; the other parameters are', async () => {
    const token = await server.token('bob');
    const client = await connectClient(server.url, CHAT_NAMESPACE, {
      query: { access_token: token, room: 'lobby' },
    });
    const { handshake } = serverSocket(CHAT_NAMESPACE, client.id);
    expect(handshake.query).toMatchObject({ room: 'lobby' });
    expect(handshake.query).not.toHaveProperty('access_token');
    expect(handshake.url).toContain('room=lobby');
    expect(handshake.url).not.toContain(token);
  });

  it("the client's auth fields stay, its token does not", async () => {
    const token = await server.token('carol');
    const withFields = await connectClient(server.url, CHAT_NAMESPACE, {
      auth: { token, locale: 'fr' },
    });
    expect(serverSocket(CHAT_NAMESPACE, withFields.id).handshake.auth).toEqual({ locale: 'fr' });
    const tokenOnly = await connectClient(server.url, CHAT_NAMESPACE, { auth: { token } });
    expect(serverSocket(CHAT_NAMESPACE, tokenOnly.id).handshake.auth).toEqual({});
  });

  it('a namespace opened later on the same connection is authenticated by the token its request carried', async () => {
    const token = await server.token('dave');
    const manager = new Manager(server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { Authorization: `Bearer ${token}`, 'X-Tenant': 'acme' },
    });
    managers.push(manager);
    const chat = manager.socket(CHAT_NAMESPACE);
    await waitFor(chat, 'connect');
    // Opened once the first is connected, so its handshake runs on the kept request.
    const notifications = manager.socket(NOTIFICATIONS_NAMESPACE);
    await waitFor(notifications, 'connect');
    const later = serverSocket(NOTIFICATIONS_NAMESPACE, notifications.id);
    expect(later.data).toMatchObject({ user: { id: 'dave' } });
    expect(later.handshake.headers).toMatchObject({ 'x-tenant': 'acme' });
    expect(later.handshake.headers).not.toHaveProperty('authorization');
  });

  it('a polling client keeps the same handshake, and upgrades', async () => {
    const token = await server.token('erin');
    const client = await connectClient(server.url, CHAT_NAMESPACE, {
      transports: ['polling', 'websocket'],
      extraHeaders: { Authorization: `Bearer ${token}`, 'X-Tenant': 'acme' },
    });
    const { engine } = client.io;
    if (engine.transport.name !== 'websocket')
      await new Promise<void>((resolve) => engine.once('upgrade', () => resolve()));
    const { handshake, data } = serverSocket(CHAT_NAMESPACE, client.id);
    expect(handshake.query).toMatchObject({ transport: 'polling' });
    expect(handshake.headers).toMatchObject({ 'x-tenant': 'acme' });
    expect(handshake.headers).not.toHaveProperty('authorization');
    expect(data).toMatchObject({ user: { id: 'erin' } });
  });
});
