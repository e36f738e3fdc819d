import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import { loadConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Drainer, RealtimeServerRef } from './drainer.js';

class FakeConn extends EventEmitter {
  closedAt: number | undefined;
  close(): void {
    if (this.closedAt !== undefined) throw new Error('closed twice');
    this.closedAt = Date.now();
  }
}

function fakeServer(connections: FakeConn[]) {
  const emitted: { conn: FakeConn; event: string; payload: { reconnectInMs: number } }[] = [];
  const socketsOf = (namespace: string) =>
    new Map(
      connections.map((conn, i) => [
        `${namespace}-${i}`,
        {
          conn,
          emit: (event: string, payload: { reconnectInMs: number }) =>
            emitted.push({ conn, event, payload }),
        },
      ]),
    );
  const server = {
    _nsps: new Map([
      ['/chat', { sockets: socketsOf('/chat') }],
      ['/notifications', { sockets: socketsOf('/n') }],
    ]),
    engine: { clients: Object.fromEntries(connections.map((conn, i) => [`sid${i}`, conn])) },
  };
  return { server: server as unknown as Server, emitted };
}

describe('Drainer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function drainerFor(server: Server, drainMs: number): Drainer {
    const loaded = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(32),
      SHUTDOWN_DRAIN_MS: String(drainMs),
    });
    if (!loaded.ok) throw new Error('config');
    const ref = new RealtimeServerRef();
    ref.server = server;
    const logger = { info: jest.fn() } as unknown as Logger;
    return new Drainer(ref, new MetricsService(), loaded.config, logger);
  }

  it('tells every socket, closes each connection once at its announced time before the reserve, then waits out the window', async () => {
    const connections = Array.from({ length: 50 }, () => new FakeConn());
    const { server, emitted } = fakeServer(connections);
    const drainer = drainerFor(server, 10_000);
    const startedAt = Date.now();

    const done = drainer.drain();
    expect(drainer.isDraining).toBe(true);
    // Both namespace sockets of each connection were told, with the same delay.
    expect(emitted).toHaveLength(100);
    expect(emitted.every(({ event }) => event === 'server:draining')).toBe(true);
    for (const conn of connections) {
      const delays = emitted.filter((e) => e.conn === conn).map((e) => e.payload.reconnectInMs);
      expect(new Set(delays).size).toBe(1);
    }

    let finished = false;
    void done.then(() => (finished = true));
    await jest.advanceTimersByTimeAsync(7000);
    for (const conn of connections) {
      const announced = emitted.find((e) => e.conn === conn)!.payload.reconnectInMs;
      expect(conn.closedAt! - startedAt).toBe(announced);
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
  });

  it('with no connections, finishes at once', async () => {
    const { server } = fakeServer([]);
    await expect(drainerFor(server, 30_000).drain()).resolves.toBeUndefined();
  });
});

describe('Drainer, connections that arrive late', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('a connection that appears mid-drain (its handshake was past the check) is let go in the spread too', async () => {
    const early = Array.from({ length: 5 }, () => new FakeConn());
    const { server } = fakeServer(early);
    const loaded = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(32),
      SHUTDOWN_DRAIN_MS: '10000',
    });
    if (!loaded.ok) throw new Error('config');
    const ref = new RealtimeServerRef();
    ref.server = server;
    const drainer = new Drainer(ref, new MetricsService(), loaded.config, {
      info: jest.fn(),
    } as unknown as Logger);
    const startedAt = Date.now();
    const done = drainer.drain();
    // A second call (app.close() after a test drained by hand) joins the same drain.
    expect(drainer.drain()).toBe(done);

    await jest.advanceTimersByTimeAsync(3000);
    const late = new FakeConn();
    (server.engine as unknown as { clients: Record<string, FakeConn> }).clients.late = late;
    await jest.advanceTimersByTimeAsync(5000);
    expect(late.closedAt! - startedAt).toBeGreaterThanOrEqual(3000);
    expect(late.closedAt! - startedAt).toBeLessThanOrEqual(7000);
    await jest.advanceTimersByTimeAsync(2000);
    await done;
  });
});
