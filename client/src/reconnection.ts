import { Manager, type ManagerOptions } from 'socket.io-client';

/**
 * How a client comes back after losing its connection: exponential backoff from 1 s, capped
 * at 5 s, each delay jittered by ±50 % so the clients of an instance that went away come back
 * spread out, and no limit on attempts. WebSocket first needs no sticky session and works
 * where the server allows WebSocket only; polling stays as the fallback for networks that
 * block WebSocket.
 */
export const RECONNECTION_DEFAULTS = {
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  transports: ['websocket', 'polling'],
  tryAllTransports: true,
} as const satisfies Partial<ManagerOptions>;

/** For a development server, restarted often: back within 0.5–2 s. */
export const FAST_RECONNECTION = {
  reconnectionDelay: 500,
  reconnectionDelayMax: 2000,
} as const satisfies Partial<ManagerOptions>;

/**
 * One connection to the server (`url` without a namespace), with `RECONNECTION_DEFAULTS`
 * under `options`. Pass it to `connectChat` and `connectNotifications` to multiplex both
 * namespaces on it.
 */
export function createManager(url: string, options: Partial<ManagerOptions> = {}): Manager {
  return new Manager(url, {
    ...RECONNECTION_DEFAULTS,
    transports: [...RECONNECTION_DEFAULTS.transports],
    autoConnect: false,
    ...options,
  });
}
