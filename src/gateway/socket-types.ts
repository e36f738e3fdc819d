import type { Namespace, Socket } from 'socket.io';
import type { AuthUser } from '../auth/auth-user.js';

/** What every socket carries once the handshake middleware has accepted it. */
export interface SocketData {
  user: AuthUser;
}

/** socket.io's own (unexported) constraint for event maps; interfaces satisfy it. */
export interface EventsMap {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's shape, not a payload
  [event: string]: any;
}

/** A socket of a namespace whose event maps are `C2S` (client to server) and `S2C`. */
export type AppSocket<
  C2S extends EventsMap = EventsMap,
  S2C extends EventsMap = EventsMap,
> = Socket<C2S, S2C, Record<string, never>, SocketData>;

export type AppNamespace<
  C2S extends EventsMap = EventsMap,
  S2C extends EventsMap = EventsMap,
> = Namespace<C2S, S2C, Record<string, never>, SocketData>;

/** The user the handshake middleware authenticated for `socket`. */
export function userOf(socket: Socket): AuthUser {
  return (socket.data as SocketData).user;
}
