import type { Socket } from 'socket.io-client';
import { CHAT_NAMESPACE, ChatEvent } from '../../src/chat/chat.events.js';
import type { Ack } from '../../src/gateway/ws-error.js';
import { startApp, type TestApp } from './app-harness.js';
import { connectClient } from './clients.js';

/** Starts `count` app instances in this process, all joined through `redisUrl`. */
export async function startInstances(
  count: number,
  env: Record<string, string>,
): Promise<TestApp[]> {
  const instances: TestApp[] = [];
  for (let i = 0; i < count; i++) {
    // One after another: each instance's adapter must see the others' subscriptions.
    instances.push(
      await startApp({
        env: { WS_RATE_LIMIT_PER_S: '10000', WS_RATE_LIMIT_BURST: '10000', ...env },
      }),
    );
  }
  return instances;
}

export async function chatClient(instance: TestApp, sub: string): Promise<Socket> {
  return connectClient(instance.url, CHAT_NAMESPACE, {
    auth: { token: await instance.token(sub, { name: sub.toUpperCase() }) },
  });
}

export async function ack<T extends object = object>(
  socket: Socket,
  event: string,
  payload: unknown,
): Promise<Ack<T>> {
  return (await socket.timeout(5000).emitWithAck(event, payload)) as Ack<T>;
}

export async function joinRoom(socket: Socket, room: string): Promise<void> {
  const result = await ack(socket, ChatEvent.RoomJoin, { room });
  if (!result.ok) throw new Error(`join ${room} failed: ${result.error.code}`);
}
