import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Module,
  UseGuards,
} from '@nestjs/common';
import {
  ConnectedSocket,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { z } from 'zod';
import { Payload, RealtimeGateway } from '../src/gateway/realtime-gateway.decorator.js';
import type { AppSocket } from '../src/gateway/socket-types.js';
import { floodLimitFor } from '../src/socket-server/dispatch/namespace-dispatcher.js';
import { WsError, type Ack, type Failure } from '../src/gateway/ws-error.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { eventually } from './support/eventually.js';
import {
  closeAllClients,
  connectClient,
  connectError,
  createClient,
  record,
  waitFor,
} from './support/clients.js';

// A tiny extra namespace, written the way the README tells users to add one.
const DashboardEvent = {
  Subscribe: 'widget:subscribe',
  Fail: 'widget:fail',
  Admin: 'widget:admin',
} as const;
const SubscribeSchema = z.object({ widget: z.enum(['cpu', 'memory']) });
type Subscribe = z.infer<typeof SubscribeSchema>;

@Injectable()
class AdminOnly implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<AppSocket>().data.user.id === 'admin';
  }
}

/** How long a lifecycle hook may take to run after its socket event. */
const HOOK_TIMEOUT_MS = 2000;

/** Who connected to and left `/dashboard`, as its lifecycle hooks saw it. */
const lifecycle: string[] = [];

@RealtimeGateway('/dashboard')
class DashboardGateway implements OnGatewayConnection<AppSocket>, OnGatewayDisconnect<AppSocket> {
  handleConnection(socket: AppSocket): void {
    lifecycle.push(`connected ${socket.data.user.id}`);
  }

  handleDisconnect(socket: AppSocket): void {
    lifecycle.push(`left ${socket.data.user.id}`);
  }

  @SubscribeMessage(DashboardEvent.Subscribe)
  async subscribe(
    @ConnectedSocket() socket: AppSocket,
    @Payload(SubscribeSchema) { widget }: Subscribe,
  ): Promise<Ack<{ widget: string }>> {
    await socket.join(`widget:${widget}`);
    return { ok: true, widget };
  }

  @SubscribeMessage(DashboardEvent.Fail)
  fail(@Payload(z.object({ kind: z.enum(['known', 'bug']) })) { kind }: { kind: string }): never {
    if (kind === 'known') throw new WsError('FORBIDDEN', 'Widget locked');
    throw new Error('database password is hunter2');
  }

  @UseGuards(AdminOnly)
  @SubscribeMessage(DashboardEvent.Admin)
  admin(): Ack {
    return { ok: true };
  }
}

@Module({ providers: [DashboardGateway, AdminOnly] })
class DashboardModule {}

describe('a new namespace built with @RealtimeGateway', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp({
      imports: [DashboardModule],
      env: { WS_RATE_LIMIT_PER_S: '1', WS_RATE_LIMIT_BURST: '5' },
    });
  });
  afterAll(() => server.close());
  afterEach(() => closeAllClients());

  const dashboard = async (sub: string) =>
    connectClient(server.url, '/dashboard', { auth: { token: await server.token(sub) } });

  it('is authenticated by the handshake middleware with no code of its own', async () => {
    const error = await connectError(
      createClient(server.url, '/dashboard', { auth: { token: 'bad' } }),
    );
    expect(error.data).toEqual({ code: 'UNAUTHORIZED', reason: 'malformed_token' });
  });

  it("runs the gateway's connection and disconnect hooks, once per socket", async () => {
    lifecycle.length = 0;
    const socket = await dashboard('hooks');
    await eventually(
      () => lifecycle.length,
      (n) => n === 1,
      HOOK_TIMEOUT_MS,
    );
    socket.disconnect();
    await eventually(
      () => lifecycle.length,
      (n) => n === 2,
      HOOK_TIMEOUT_MS,
    );
    expect(lifecycle).toEqual(['connected hooks', 'left hooks']);
  });

  it('validates payloads and answers with the template error shape', async () => {
    const socket = await dashboard('alice');
    expect(await socket.emitWithAck(DashboardEvent.Subscribe, { widget: 'cpu' })).toEqual({
      ok: true,
      widget: 'cpu',
    });
    expect(await socket.emitWithAck(DashboardEvent.Subscribe, { widget: 'disk' })).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringContaining('widget') },
    });
  });

  it('keeps a thrown WsError code and hides unexpected errors behind INTERNAL', async () => {
    const socket = await dashboard('bob');
    expect(await socket.emitWithAck(DashboardEvent.Fail, { kind: 'known' })).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'Widget locked' },
    });
    const internal = await socket.emitWithAck(DashboardEvent.Fail, { kind: 'bug' });
    expect(internal).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'Internal error' } });
    expect(JSON.stringify(internal)).not.toContain('hunter2');
  });

  it('a guard refusing a message becomes a FORBIDDEN ack', async () => {
    const [carol, admin] = await Promise.all([dashboard('carol'), dashboard('admin')]);
    expect(await carol.emitWithAck(DashboardEvent.Admin, {})).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'Forbidden' },
    });
    expect(await admin.emitWithAck(DashboardEvent.Admin, {})).toEqual({ ok: true });
  });

  it('is rate limited per socket like every namespace', async () => {
    const socket = await dashboard('dave');
    const acks = await Promise.all(
      Array.from(
        { length: 8 },
        () => socket.emitWithAck(DashboardEvent.Subscribe, { widget: 'memory' }) as Promise<Ack>,
      ),
    );
    const codes = acks.map((ack) => (ack.ok ? 'ok' : ack.error.code));
    expect(codes.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(codes.slice(5)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('answers a flood without acks once, then disconnects the socket that keeps flooding', async () => {
    const socket = await dashboard('mallory');
    const exceptions = record<Failure>(socket, 'exception');
    const disconnected = waitFor<string>(socket, 'disconnect');
    const floodLimit = floodLimitFor(5);
    for (let i = 0; i < 5 + floodLimit + 20; i++)
      socket.emit(DashboardEvent.Subscribe, { widget: 'cpu' });
    expect(await disconnected).toBe('io server disconnect');
    expect(exceptions).toEqual([
      { ok: false, error: { code: 'RATE_LIMITED', message: expect.any(String) } },
    ]);
  });

  it('shows up in /metrics under its own namespace', async () => {
    const socket = await dashboard('erin');
    await socket.emitWithAck(DashboardEvent.Subscribe, { widget: 'cpu' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/ws_connected_sockets\{namespace="\/dashboard"\} [1-9]/);
    expect(metrics).toMatch(
      /ws_events_received_total\{namespace="\/dashboard",event="widget:subscribe"\} [1-9]/,
    );
    expect(metrics).toMatch(/ws_rate_limited_events_total\{namespace="\/dashboard"\} [1-9]/);
    expect(metrics).toMatch(
      /ws_event_handling_seconds_count\{namespace="\/dashboard",event="widget:subscribe"\} [1-9]/,
    );
  });

  it('appears in GET /asyncapi.json with its events and payload schemas, with no code of its own', async () => {
    const document = (await (await fetch(`${server.url}/asyncapi.json`)).json()) as {
      channels: Record<string, { address: string; messages: Record<string, Message> }>;
    };
    type Message = { name: string; summary?: string; payload?: { oneOf?: unknown[] } };
    const channel = Object.values(document.channels).find((c) => c.address === '/dashboard');
    const messages = Object.values(channel?.messages ?? {});
    expect(messages.map((message) => message.name)).toEqual([
      DashboardEvent.Subscribe,
      `${DashboardEvent.Subscribe} ack`,
      DashboardEvent.Fail,
      `${DashboardEvent.Fail} ack`,
      DashboardEvent.Admin,
      `${DashboardEvent.Admin} ack`,
      'server:draining',
      'exception',
    ]);
    const byName = (name: string) => messages.find((message) => message.name === name);
    expect(byName(DashboardEvent.Subscribe)?.payload).toEqual({
      type: 'object',
      properties: { widget: { type: 'string', enum: ['cpu', 'memory'] } },
      required: ['widget'],
    });
    expect(byName(DashboardEvent.Admin)?.summary).toMatch(/not declared/);
    expect(byName(`${DashboardEvent.Subscribe} ack`)?.payload?.oneOf).toEqual([
      expect.objectContaining({ description: expect.stringMatching(/not declared/) }),
      expect.objectContaining({ required: ['ok', 'error'] }),
    ]);
  });
});

// NestJS lets a gateway ask for a port of its own: a second Socket.IO server, outside the
// handshake gate, the caps and the drain. Refused at start rather than half-protected.
@WebSocketGateway(4599, { namespace: '/elsewhere' })
class OwnPortGateway {}

@Module({ providers: [OwnPortGateway] })
class OwnPortModule {}

describe('a gateway on a port of its own', () => {
  it('stops the start with a message saying what to do instead', async () => {
    await expect(startApp({ imports: [OwnPortModule] })).rejects.toThrow(
      /A gateway asked for a port of its own \(4599\).*Use @RealtimeGateway\(namespace\)/,
    );
  });
});
