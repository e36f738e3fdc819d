import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { ReadinessService } from '../src/health/readiness.service.js';
import { Drainer } from '../src/socket-server/connection/drainer.js';
import { startApp, type TestApp } from './support/app-harness.js';
import {
  closeAllClients,
  connectClient,
  createClient,
  connectError,
  waitFor,
} from './support/clients.js';

describe('health and metrics routes', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({ env: { SHUTDOWN_DRAIN_MS: '500' } });
  });
  afterAll(() => server.close());
  afterEach(() => closeAllClients());

  const get = (path: string) => fetch(`${server.url}${path}`);

  it('/health and /health/live answer 200 while the process runs', async () => {
    for (const path of ['/health', '/health/live']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        status: 'ok',
        info: { process: { status: 'up', uptimeS: expect.any(Number) } },
      });
    }
  });

  it('/health/ready is 200 with a Terminus body when ready', async () => {
    const res = await get('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      info: { app: { status: 'up', state: 'ready' } },
      error: {},
      details: { app: { status: 'up', state: 'ready' } },
    });
  });

  it("/metrics exposes the contract's metrics in Prometheus text", async () => {
    const token = await server.token('metrics-user');
    const chat = await connectClient(server.url, CHAT_NAMESPACE, { auth: { token } });
    await chat.emitWithAck(ChatEvent.RoomJoin, { room: 'm' });
    await chat.emitWithAck(ChatEvent.MessageSend, { room: 'm', text: 'counted' });
    await chat.emitWithAck(ChatEvent.MessageSend, { room: 'not-joined', text: 'refused' });
    await connectError(createClient(server.url, CHAT_NAMESPACE, { auth: { token: 'bad' } }));
    await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&access_token=bad`);

    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('ws_connected_sockets{namespace="/chat"} 1');
    expect(text).toContain('ws_connected_sockets{namespace="/notifications"} 0');
    expect(text).toMatch(/ws_connections_opened_total\{namespace="\/chat"\} [1-9]/);
    // One refused by the namespace middleware (auth.token), one by the HTTP gate (query).
    expect(text).toMatch(/ws_connections_refused_total\{reason="malformed_token"\} 2/);
    expect(text).toMatch(/ws_events_received_total\{namespace="\/chat",event="message:send"\} 2/);
    expect(text).toMatch(/ws_events_emitted_total\{namespace="\/chat",event="message:new"\} 1/);
    expect(text).toMatch(/ws_event_errors_total\{namespace="\/chat",code="NOT_IN_ROOM"\} 1/);
    expect(text).toMatch(
      /ws_event_handling_seconds_bucket\{le="0.005",namespace="\/chat",event="room:join"\}/,
    );
    expect(text).toContain('# TYPE ws_rate_limited_events_total counter');
    expect(text).toContain('ws_draining 0');
    expect(text).toMatch(/process_cpu_seconds_total \d/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds \d/);
  });

  it('the drain lets a connected socket go and records how long it took', async () => {
    const chat = await connectClient(server.url, CHAT_NAMESPACE, {
      auth: { token: await server.token('drained-user') },
    });
    const gone = waitFor<string>(chat, 'disconnect');
    await server.app.get(Drainer).drain();
    expect(await gone).toBe('transport close');
    // SHUTDOWN_DRAIN_MS is 500 here: the drain waits out its window.
    const seconds = Number(
      /^ws_drain_duration_seconds (\S+)$/m.exec(await (await get('/metrics')).text())?.[1],
    );
    expect(seconds).toBeGreaterThanOrEqual(0.5);
    expect(seconds).toBeLessThan(2);
  });

  // Runs last: the app stays draining afterwards.
  it('readiness turns 503 the moment the app drains, while liveness stays 200', async () => {
    server.app.get(ReadinessService).markDraining();
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      error: { app: { status: 'down', state: 'draining' } },
    });
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health')).status).toBe(200);
    expect(await (await get('/metrics')).text()).toContain('ws_draining 1');
  });
});
