import type { Server, Socket } from 'socket.io';

/** An engine.io connection: what `socket.conn` is, shared by a client's namespace sockets. */
export type EngineConnection = Socket['conn'];

/** engine.io's open connections by session id (engine.io types the map `protected`). */
export function engineClients(server: Server): Readonly<Record<string, EngineConnection>> {
  return (server.engine as unknown as { clients: Record<string, EngineConnection> }).clients;
}

/**
 * Sends one event to one namespace socket by writing the packet to its connection, and calls
 * `onDone` once the transport wrote it (or the connection closed first; at once if it is
 * closed or closing already).
 *
 * With connection state recovery on, `socket.emit` goes through `adapter.broadcast`: the
 * packet is stored (with streams, an XADD delivered when Redis answers) and replayed by
 * whichever instance the client recovers on. A notice about this connection (such as
 * `server:draining`) must reach it now, before the connection closes, and nowhere else.
 */
export function writeToConnection(
  socket: Socket,
  event: string,
  payload: unknown,
  onDone: () => void,
): void {
  const { conn, nsp } = socket;
  if (conn.readyState !== 'open') return onDone();
  const { encoder, _parser: parser } = nsp.server;
  const packets = encoder.encode({
    type: parser.PacketType.EVENT,
    nsp: nsp.name,
    data: [event, payload],
  }) as (string | Buffer)[];
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    conn.off('close', finish);
    onDone();
  };
  conn.on('close', finish);
  packets.forEach((packet, i) =>
    conn.write(packet, {}, i === packets.length - 1 ? finish : undefined),
  );
}
