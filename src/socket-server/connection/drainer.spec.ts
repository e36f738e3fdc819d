import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { loadConfig } from '../../config/app-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { Drainer, NOTICE_WRITE_BOUND_MS } from './drainer.js';
import { SocketServerRef } from './socket-server-ref.js';

const { encoder, _parser: parser } = new Server();

interface Written {
  readonly conn: FakeConn;
  readonly namespace: string;
  readonly event: string;
  readonly payload: { reconnectInMs: number };
}

/** An engine.io connection: takes writes (answered at once unless `stalled`), closes once. */
class FakeConn extends EventEmitter {
  readyState = 'open';
  closedAt: number | undefined;
  discarded = false;
  stalled = false;
  readonly unanswered: (() => void)[] = [];
  constructor(private readonly written: Written[]) {
    super();
  }
  write(packet: string, _options: unknown, done?: () => void): void {
    const [, namespace, json] = /^2(\/[^,]*),(.*)$/s.exec(packet)!;
    const [event, payload] = JSON.parse(json) as [string, Written['payload']];
    this.written.push({ conn: this, namespace, event, payload });
    if (!done) return;
    if (this.stalled) this.unanswered.push(done);
    else queueMicrotask(done);
  }
  close(discard?: boolean): void {
    if (this.closedAt !== undefined) throw new Error('closed twice');
    this.closedAt = Date.now();
    this.discarded = discard === true;
  }
}

/** A server whose connections each carry a `/chat` and a `/notifications` socket. */
function fakeServer(count: number) {
  const written: Written[] = [];
  const connections = Array.from({ length: count }, () => new FakeConn(written));
  const namespaces = new Map(
    ['/chat', '/notifications'].map((name) => [
      name,
      { name, server: { encoder, _parser: parser }, sockets: new Map() },
    ]),
  );
  const addSocket = (conn: FakeConn, namespace: string): void => {
    const nsp = namespaces.get(namespace)!;
    nsp.sockets.set(`${namespace}-${nsp.sockets.size}`, { conn, nsp });
  };
  for (const conn of connections) for (const name of namespaces.keys()) addSocket(conn, name);
  const clients: Record<string, FakeConn> = Object.fromEntries(
    connections.map((conn, i) => [`sid${i}`, conn]),
  );
  const server = { _nsps: namespaces, engine: { clients } } as unknown as Server;
  const addConnection = (): FakeConn => {
    const conn = new FakeConn(written);
    clients[`sid${Object.keys(clients).length}`] = conn;
    return conn;
  };
  return { server, connections, written, addSocket, addConnection };
}

function drainerFor(server: Server, drainMs: number): Drainer {
  const loaded = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'x'.repeat(32),
    SHUTDOWN_DRAIN_MS: String(drainMs),
  });
  if (!loaded.ok) throw new Error('config');
  const ref = new SocketServerRef();
  ref.server = server;
  const logger = { info: jest.fn() } as unknown as Logger;
  return new Drainer(ref, new MetricsService(), loaded.config, logger);
}

describe('Drainer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tells every socket, closes each connection once at its announced time before the reserve, then waits out the window', async () => {
    const { server, connections, written } = fakeServer(50);
    const drainer = drainerFor(server, 10_000);
    const startedAt = Date.now();

    const done = drainer.drain();
    expect(drainer.isDraining).toBe(true);
    // Both namespace sockets of each connection were told, on their connection, with the same
    // delay.
    expect(written).toHaveLength(100);
    expect(written.every(({ event }) => event === 'server:draining')).toBe(true);
    for (const conn of connections) {
      const told = written.filter((w) => w.conn === conn);
      expect(told.map((w) => w.namespace).sort()).toEqual(['/chat', '/notifications']);
      expect(new Set(told.map((w) => w.payload.reconnectInMs)).size).toBe(1);
    }

    let finished = false;
    void done.then(() => (finished = true));
    await jest.advanceTimersByTimeAsync(7000);
    for (const conn of connections) {
      const announced = written.find((w) => w.conn === conn)!.payload.reconnectInMs;
      expect(conn.closedAt! - startedAt).toBe(announced);
      expect(conn.discarded).toBe(false);
    }
    expect(Math.max(...connections.map((conn) => conn.closedAt! - startedAt))).toBeLessThanOrEqual(
      7000,
    );
    // The last 3 s stay free for the last clients to reconnect elsewhere.
    await jest.advanceTimersByTimeAsync(2999);
    expect(finished).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await done;
    expect(Date.now() - startedAt).toBe(10_000);
    // Told once each, whatever the ticks in between.
    expect(written).toHaveLength(100);
  });

  it('with no connections, finishes at once', async () => {
    const { server } = fakeServer(0);
    await expect(drainerFor(server, 30_000).drain()).resolves.toBeUndefined();
  });

  it('a connection is closed only once its notices are written; one that takes none within the bound is closed discarding them', async () => {
    const { server, connections } = fakeServer(2);
    const [slow, stuck] = connections;
    slow.stalled = true;
    stuck.stalled = true;
    // No window: both are due at once.
    const startedAt = Date.now();
    const done = drainerFor(server, 0).drain();
    await jest.advanceTimersByTimeAsync(0);
    await done;
    expect(slow.closedAt).toBeUndefined();
    expect(stuck.closedAt).toBeUndefined();
    await jest.advanceTimersByTimeAsync(500);
    for (const answer of slow.unanswered) answer();
    expect(slow.closedAt! - startedAt).toBe(500);
    expect(slow.discarded).toBe(false);
    await jest.advanceTimersByTimeAsync(499);
    expect(stuck.closedAt).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(stuck.closedAt! - startedAt).toBe(NOTICE_WRITE_BOUND_MS);
    expect(stuck.discarded).toBe(true);
  });
});

describe('Drainer, connections and sockets that arrive late', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('a connection that appears mid-drain (its handshake was past the check) is told and let go in the spread too', async () => {
    const { server, written, addConnection, addSocket } = fakeServer(5);
    const drainer = drainerFor(server, 10_000);
    const startedAt = Date.now();
    const done = drainer.drain();
    // A second call (app.close() after a test drained by hand) joins the same drain.
    expect(drainer.drain()).toBe(done);

    await jest.advanceTimersByTimeAsync(3000);
    const late = addConnection();
    addSocket(late, '/chat');
    await jest.advanceTimersByTimeAsync(100);
    const notice = written.find((w) => w.conn === late);
    const toldAt = Date.now() - startedAt;
    await jest.advanceTimersByTimeAsync(5000);
    expect(late.closedAt! - startedAt).toBeGreaterThanOrEqual(3000);
    expect(late.closedAt! - startedAt).toBeLessThanOrEqual(7000);
    // Its notice counts from when it was sent.
    expect(toldAt + notice!.payload.reconnectInMs).toBe(late.closedAt! - startedAt);
    await jest.advanceTimersByTimeAsync(2000);
    await done;
  });

  it('a socket that joins a namespace on a connection already scheduled is told too', async () => {
    const { server, connections, written, addSocket } = fakeServer(1);
    const drainer = drainerFor(server, 10_000);
    const done = drainer.drain();
    expect(written).toHaveLength(2);
    addSocket(connections[0], '/chat');
    await jest.advanceTimersByTimeAsync(100);
    expect(written).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(10_000);
    await done;
    expect(written).toHaveLength(3);
  });
});
