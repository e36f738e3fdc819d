import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { EventsMap } from '../../src/gateway/socket-types.js';

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

const DEFAULT_TIMEOUT_MS = 5000;
const opened: Socket[] = [];

/** A socket.io client that tests must not forget: `closeAllClients()` closes every one. */
export function createClient<S2C extends EventsMap = EventsMap, C2S extends EventsMap = EventsMap>(
  url: string,
  namespace: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Socket<S2C, C2S> {
  const socket = io(`${url}${namespace}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
  }) as Socket<S2C, C2S>;
  opened.push(socket);
  return socket;
}

/** Connects and resolves once connected; rejects with the `connect_error`. */
export async function connectClient<
  S2C extends EventsMap = EventsMap,
  C2S extends EventsMap = EventsMap,
>(
  url: string,
  namespace: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket<S2C, C2S>> {
  const socket = createClient<S2C, C2S>(url, namespace, options);
  await new Promise<void>((resolve, reject) => {
    (socket as Socket).once('connect', resolve);
    (socket as Socket).once('connect_error', reject);
  });
  return socket;
}

export interface ConnectErrorLike extends Error {
  data?: unknown;
  description?: unknown;
  context?: unknown;
}

/** Resolves with the `connect_error` a socket gets; fails if it connects instead. */
export function connectError(
  socket: Socket,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<ConnectErrorLike> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new WaitTimeoutError('connect_error', timeoutMs)),
      timeoutMs,
    );
    socket.once('connect', () => {
      clearTimeout(timer);
      reject(new Error('expected a connect_error, but the socket connected'));
    });
    socket.once('connect_error', (error: ConnectErrorLike) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

/** Resolves with the first payload of `event` (that `match` accepts), or fails with a named timeout. */
export function waitFor<T = unknown>(
  socket: Socket,
  event: string,
  {
    timeoutMs = DEFAULT_TIMEOUT_MS,
    match,
  }: { timeoutMs?: number; match?: (payload: T) => boolean } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new WaitTimeoutError(`"${event}"`, timeoutMs));
    }, timeoutMs);
    const listener = (payload: T): void => {
      if (match && !match(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(payload);
    };
    socket.on(event, listener);
  });
}

/** Collects every payload of `event` a socket receives from now on. */
export function record<T = unknown>(socket: Socket, event: string): T[] {
  const received: T[] = [];
  socket.on(event, (payload: T) => received.push(payload));
  return received;
}

export function closeAllClients(): void {
  for (const socket of opened.splice(0)) socket.disconnect();
}
