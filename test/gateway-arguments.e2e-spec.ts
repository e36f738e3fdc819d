/**
 * What a gateway receives, checked with raw frames: the frames of Socket.IO's own protocol
 * test suite (socketio/socket.io-protocol), sent to gateways written as that suite's reference
 * server behaves, with `@RealtimeGateway`. A handler gets what NestJS's stock adapter would
 * give it: the one argument as itself, several as an array, binary attachments as Buffers.
 */
import { Module } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
} from '@nestjs/websockets';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { RealtimeGateway } from '../src/gateway/realtime-gateway.decorator.js';
import type { AppSocket } from '../src/gateway/socket-types.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient, connectError, createClient } from './support/clients.js';
import { RawFrames } from './support/raw-socket.js';

/** Several arguments arrive as an array; one arrives as itself. */
const argumentsOf = (data: unknown): unknown[] => (Array.isArray(data) ? data : [data]);

/** The protocol suite's reference server, as a gateway: echoes what it gets. */
class EchoGateway implements OnGatewayConnection<AppSocket> {
  handleConnection(socket: AppSocket): void {
    socket.emit('auth', {});
  }

  @SubscribeMessage('message')
  echo(@ConnectedSocket() socket: AppSocket, @MessageBody() data: unknown): void {
    socket.emit('message-back', ...argumentsOf(data));
  }

  @SubscribeMessage('message-with-ack')
  echoAck(@MessageBody() data: unknown, @Ack() ack: (...args: unknown[]) => void): void {
    ack(...argumentsOf(data));
  }
}

@RealtimeGateway('/')
class MainEchoGateway extends EchoGateway {}

@RealtimeGateway('/custom')
class CustomEchoGateway extends EchoGateway {}

@Module({ providers: [MainEchoGateway, CustomEchoGateway] })
class EchoModule {}

const placeholders = (count: number): string =>
  Array.from({ length: count }, (_, num) => `{"_placeholder":true,"num":${num}}`).join(',');

describe('gateways get every argument of an event, binary included (raw frames)', () => {
  let server: TestApp;
  let frames: RawFrames | undefined;
  beforeAll(async () => {
    server = await startApp({ imports: [EchoModule] });
  });
  afterAll(() => server.close());
  afterEach(() => frames?.close());

  /** A raw connection to `/`, authenticated by header, past the namespace handshake. */
  const connectRaw = async (): Promise<RawFrames> => {
    frames = await RawFrames.open(server.url, {
      Authorization: `Bearer ${await server.token('raw')}`,
    });
    frames.send('40');
    expect(await frames.next()).toMatch(/^40\{"sid":"[^"]+"\}$/);
    expect(await frames.next()).toBe('42["auth",{}]');
    return frames;
  };

  it('several plain arguments reach the handler as an array', async () => {
    const raw = await connectRaw();
    raw.send('42["message",1,"2",{"3":[true]}]');
    expect(await raw.next()).toBe('42["message-back",1,"2",{"3":[true]}]');
  });

  it('binary attachments reach the handler as Buffers', async () => {
    const raw = await connectRaw();
    raw.send(
      `452-["message",${placeholders(2)}]`,
      Uint8Array.from([1, 2, 3]),
      Uint8Array.from([4, 5, 6]),
    );
    expect(await raw.take(3)).toEqual([
      `452-["message-back",${placeholders(2)}]`,
      Buffer.from([1, 2, 3]),
      Buffer.from([4, 5, 6]),
    ]);
  });

  it('with an ack, the handler gets every argument before it, binary too', async () => {
    const raw = await connectRaw();
    raw.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    expect(await raw.next()).toBe('43456[1,"2",{"3":[false]}]');
    raw.send(
      `452-789["message-with-ack",${placeholders(2)}]`,
      Uint8Array.from([1, 2, 3]),
      Uint8Array.from([4, 5, 6]),
    );
    expect(await raw.take(3)).toEqual([
      `462-789[${placeholders(2)}]`,
      Buffer.from([1, 2, 3]),
      Buffer.from([4, 5, 6]),
    ]);
  });

  it('one argument arrives as itself on a custom namespace', async () => {
    const raw = await connectRaw();
    raw.send('40/custom,');
    expect(await raw.next()).toMatch(/^40\/custom,\{"sid":"[^"]+"\}$/);
    expect(await raw.next()).toBe('42/custom,["auth",{}]');
    raw.send('42/custom,["message",{"only":["one"]}]');
    expect(await raw.next()).toBe('42/custom,["message-back",{"only":["one"]}]');
  });
});

describe('the stock app: nothing is dropped or left unanswered', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());
  afterEach(() => closeAllClients());

  it('a message:send with an extra argument is refused (VALIDATION), not acked without it', async () => {
    const socket = await connectClient(server.url, CHAT_NAMESPACE, {
      auth: { token: await server.token('extra') },
    });
    await socket.emitWithAck(ChatEvent.RoomJoin, { room: 'lobby' });
    expect(
      await socket.emitWithAck(ChatEvent.MessageSend, { room: 'lobby', text: 'hi' }, 'extra'),
    ).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.any(String) } });
    expect(await socket.emitWithAck(ChatEvent.MessageSend, { room: 'lobby', text: 'hi' })).toEqual(
      expect.objectContaining({ ok: true }),
    );
  });

  it('the main namespace, which no gateway serves, refuses an authenticated client at connect', async () => {
    const error = await connectError(
      createClient(server.url, '/', { auth: { token: await server.token('lost') } }),
    );
    expect(error.message).toBe('Invalid namespace');
    expect(error.data).toEqual({ code: 'INVALID_NAMESPACE', reason: 'no_gateway' });
  });
});
