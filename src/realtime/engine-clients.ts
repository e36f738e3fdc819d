import type { Server, Socket } from 'socket.io';

/** An engine.io connection: what `socket.conn` is, shared by a client's namespace sockets. */
export type EngineConnection = Socket['conn'];

/** engine.io's open connections by session id (engine.io types the map `protected`). */
export function engineClients(server: Server): Readonly<Record<string, EngineConnection>> {
  return (server.engine as unknown as { clients: Record<string, EngineConnection> }).clients;
}
