import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'socket.io';
import {
  dropUpgradeErrorListener,
  dropUpgradeResponse,
  type EngineConnection,
  replaceHandshakeRequest,
} from '../../compat/socket-io.js';

/**
 * Headers a connection does not keep past its handshake: the credentials, and those of the
 * WebSocket upgrade itself. Every other header stays readable in `socket.handshake.headers`.
 */
export const RELEASED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'sec-websocket-protocol',
  'sec-websocket-key',
  'sec-websocket-extensions',
  'sec-websocket-version',
  'connection',
  'upgrade',
]);

/** The query parameter that may carry the token; not kept past the handshake. */
export const RELEASED_QUERY_PARAMETER = 'access_token';

const PLAIN = Object.freeze({ encrypted: false });
const TLS = Object.freeze({ encrypted: true });

/**
 * What `socket.request` is once a connection is open, in place of the HTTP request engine.io
 * would keep for the connection's whole life: what Socket.IO reads of it to build each
 * namespace socket's `handshake`, without the released headers and query parameter.
 */
export class HandshakeRequest {
  constructor(
    readonly method: string | undefined,
    readonly url: string | undefined,
    readonly headers: IncomingHttpHeaders,
    /** engine.io's parsed query: `socket.handshake.query`. */
    readonly _query: Readonly<Record<string, string>>,
    readonly connection: { readonly encrypted: boolean },
  ) {}

  /** `request.socket.encrypted`, as on an HTTP request; nothing else of the TCP socket. */
  get socket(): { readonly encrypted: boolean } {
    return this.connection;
  }
}

/** The part of a connection's HTTP handshake request that it keeps. */
export function handshakeRequestOf(
  req: IncomingMessage & { _query?: Record<string, string> },
): HandshakeRequest {
  const query = req._query ?? {};
  const released = RELEASED_QUERY_PARAMETER in query;
  return new HandshakeRequest(
    req.method,
    released ? urlWithout(req.url ?? '', query) : req.url,
    keptHeaders(req.headers),
    released ? without(query, RELEASED_QUERY_PARAMETER) : query,
    (req.socket as TLSSocket | null)?.encrypted === true ? TLS : PLAIN,
  );
}

/**
 * Called on every new engine.io connection, before any namespace handshake: the connection
 * keeps a `HandshakeRequest` instead of its HTTP request, engine.io's upgrade response stops
 * holding the request until the TCP socket closes, and its upgrade-time `error` listener
 * goes. `carryOver` moves what was keyed by the HTTP request (the token verification) onto
 * what replaces it.
 */
export function releaseHandshakeRequest(
  conn: EngineConnection,
  carryOver: (from: IncomingMessage, to: HandshakeRequest) => void,
): void {
  const { request } = conn;
  if (request instanceof HandshakeRequest) return;
  const kept = handshakeRequestOf(request);
  carryOver(request, kept);
  replaceHandshakeRequest(conn, kept);
  dropUpgradeResponse(conn);
  dropUpgradeErrorListener(conn);
}

const NO_AUTH = Object.freeze({});

/**
 * Called on every socket once the namespace middleware accepted it: the token in
 * `socket.handshake.auth` has been verified into `socket.data.user` and is not kept. The
 * client's other `auth` fields stay.
 */
export function releaseAuthToken(socket: Socket): void {
  const handshake = socket.handshake as { auth: Record<string, unknown> };
  if (!('token' in handshake.auth)) return;
  const rest = without(handshake.auth, 'token');
  handshake.auth = Object.keys(rest).length === 0 ? NO_AUTH : rest;
}

function keptHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  if (!Object.keys(headers).some((name) => RELEASED_HEADERS.has(name))) return headers;
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!RELEASED_HEADERS.has(name)) kept[name] = value;
  return kept;
}

function urlWithout(url: string, query: Readonly<Record<string, string>>): string {
  const path = url.split('?', 1)[0];
  return `${path}?${new URLSearchParams(without(query, RELEASED_QUERY_PARAMETER)).toString()}`;
}

function without<T>(record: Readonly<Record<string, T>>, name: string): Record<string, T> {
  const rest: Record<string, T> = {};
  for (const [key, value] of Object.entries(record)) if (key !== name) rest[key] = value;
  return rest;
}
