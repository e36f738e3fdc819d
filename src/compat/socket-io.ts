/**
 * Socket.IO and engine.io internals the socket server relies on, each for a measured gain or
 * a fix. Checked against socket.io 4.8.3 and engine.io 6.6.13 (pinned exactly in
 * package.json); `compat.spec.ts` asserts every shape on the installed versions.
 */
import type { IncomingMessage } from 'node:http';
import type { Namespace, Server, Socket } from 'socket.io';

/** An engine.io connection: what `socket.conn` is, shared by a client's namespace sockets. */
export type EngineConnection = Socket['conn'];

/** What the slow-consumer watch reads of an engine.io connection (internal fields). */
export interface EngineConnectionBuffers {
  readonly id: string;
  readonly remoteAddress: string;
  /** Packets engine.io holds until the transport can take them. */
  readonly writeBuffer: readonly unknown[];
  /** On WebSocket, `ws`'s bytes handed over but not yet sent. */
  readonly transport: { readonly socket?: { readonly bufferedAmount?: number } };
  close(discard?: boolean): void;
}

/** engine.io's open connections by session id (engine.io types the map `protected`). */
export function engineClients(server: Server): Readonly<Record<string, EngineConnection>> {
  return (server.engine as unknown as { clients: Record<string, EngineConnection> }).clients;
}

/** The same connections, with the buffers the slow-consumer watch reads. */
export function engineConnectionBuffers(server: Server): EngineConnectionBuffers[] {
  return Object.values(engineClients(server)) as unknown as EngineConnectionBuffers[];
}

/** Every namespace the server has (`server._nsps`; no public list exists). */
export function namespacesOf(server: Server): Iterable<Namespace> {
  return server._nsps.values();
}

/** The connected namespace sockets sharing `socket`'s connection (gone before `disconnect`). */
export function siblingSockets(socket: Socket): Iterable<Socket> {
  return (socket.client as unknown as { sockets: ReadonlyMap<string, Socket> }).sockets.values();
}

/**
 * Makes `listener` the socket's only `onAny` listener. `onAny` pushes onto a new `[]`, which
 * V8 grows to 17 slots: 150 bytes on every socket for one listener. Socket.IO reads this same
 * field to call its listeners.
 */
export function setOnlyAnyListener(
  socket: Socket,
  listener: (this: Socket, event: string, ...args: unknown[]) => void,
): void {
  const any = socket as unknown as { _anyListeners?: unknown[] };
  if (any._anyListeners === undefined) any._anyListeners = [listener];
  else if (!socket.listenersAny().includes(listener)) socket.onAny(listener);
}

/** The private id connection state recovery keeps a session under. */
export function recoveryPid(socket: Socket): string {
  return (socket as unknown as { pid: string }).pid;
}

/**
 * Parses an engine.io request's query the way engine.io does and leaves it on `req._query`,
 * which engine.io then uses as it is: whoever reads it here and engine.io read the same `sid`,
 * whatever tricks the URL plays (`sid=`, repeated keys, fragments).
 */
export function engineQuery(
  req: IncomingMessage & { _query?: Record<string, string> },
): Readonly<Record<string, string>> {
  req._query ??= Object.fromEntries(
    new URL(req.url ?? '', 'https://socket.io').searchParams.entries(),
  );
  return req._query;
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

/**
 * Replaces the handshake request an engine.io connection keeps for its whole life
 * (`conn.request`, which `socket.request` returns and from which Socket.IO builds every
 * namespace socket's `handshake`). Socket.IO reads only `headers`, `url`, `_query` and
 * `connection.encrypted` of it.
 */
export function replaceHandshakeRequest(conn: EngineConnection, request: object): void {
  (conn as unknown as { request: object }).request = request;
}

/** The source of the listener engine.io's upgrade response puts on the TCP socket. */
const UPGRADE_RESPONSE_CLOSE = '() => this.emit("close")';

/**
 * engine.io answers a WebSocket upgrade through a response object that re-emits the TCP
 * socket's `close` (for `engine.use` middlewares) and holds the upgrade request until then.
 * Removes that listener from a WebSocket connection's TCP socket; false when none was found.
 */
export function dropUpgradeResponse(conn: EngineConnection): boolean {
  const transport = conn.transport as unknown as { socket?: { _socket?: EventEmitterLike } };
  const tcp = transport.socket?._socket;
  if (tcp === undefined) return false;
  const listener = tcp.listeners('close').find((fn) => String(fn) === UPGRADE_RESPONSE_CLOSE);
  if (listener === undefined) return false;
  tcp.off('close', listener);
  return true;
}

/**
 * engine.io listens for `error` on a new WebSocket until the transport takes over, and on a
 * connection that opens on WebSocket never removes that listener: its closure and scope stay
 * for the connection's life. Removes it while the transport's own listener is there; false
 * when it was not found.
 */
export function dropUpgradeErrorListener(conn: EngineConnection): boolean {
  const transport = conn.transport as unknown as { socket?: EventEmitterLike };
  const listeners = transport.socket?.listeners('error') ?? [];
  const listener = listeners.find((fn) => fn.name === 'onUpgradeError');
  if (listener === undefined || listeners.length < 2) return false;
  transport.socket!.off('error', listener);
  return true;
}

interface EventEmitterLike {
  listeners(event: string): ((...args: unknown[]) => void)[];
  off(event: string, listener: (...args: unknown[]) => void): void;
}
