import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { engineQuery } from '../../compat/socket-io.js';

/** Why a handshake is turned away, and with which HTTP status. */
export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly reason: string;
  readonly message: string;
  /** Extra response headers (`Retry-After` on a 503). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A check on a new engine.io handshake (a polling request or a WebSocket upgrade without a
 * session id). It may be async; `undefined` lets the handshake through.
 */
export type HandshakeCheck = (
  req: IncomingMessage,
) => Refusal | undefined | Promise<Refusal | undefined>;

export interface EngineGateOptions {
  /** engine.io's path, with its trailing slash (`/socket.io/`). */
  readonly path: string;
  /** Read on every handshake, so checks added later take effect. */
  readonly checks: readonly HandshakeCheck[];
  /**
   * A check on a request that names a session (`sid`). A draining instance answers 503 to
   * the sessions it does not hold, so a proxy retries them on the instance that does.
   */
  readonly sessionCheck?: (sid: string) => Refusal | undefined;
  /** CORS headers for a refused polling request, so a browser can read the status. */
  readonly corsHeaders: (req: IncomingMessage) => Record<string, string>;
  readonly onRefused: (req: IncomingMessage, refusal: Refusal) => void;
  readonly onError: (error: unknown) => void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

const CHECK_FAILED: Refusal = {
  status: 500,
  code: 'INTERNAL',
  reason: 'check_failed',
  message: 'internal error',
};

/**
 * Puts the handshake checks in front of engine.io on the HTTP server. engine.io can only
 * answer a refused `allowRequest` with 403 (polling) or a bare 400 (upgrade); standing in
 * front of it lets a refusal carry its real status (401, 503) and a JSON body.
 *
 * Must run after engine.io attached itself: it takes over the `request` and `upgrade`
 * listeners present then and calls them once the checks pass.
 */
export function installEngineGate(httpServer: HttpServer, options: EngineGateOptions): void {
  const requestListeners = httpServer.listeners('request') as RequestListener[];
  const upgradeListeners = httpServer.listeners('upgrade') as UpgradeListener[];
  httpServer.removeAllListeners('request');
  httpServer.removeAllListeners('upgrade');

  const checkAll = async (req: IncomingMessage): Promise<Refusal | undefined> => {
    for (const check of options.checks) {
      const refusal = await check(req);
      if (refusal) return refusal;
    }
    return undefined;
  };
  const decide = (req: IncomingMessage): Promise<Refusal | undefined> =>
    checkAll(req).catch((error: unknown) => {
      options.onError(error);
      return CHECK_FAILED;
    });

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const pass = (): void =>
      requestListeners.forEach((listener) => listener.call(httpServer, req, res));
    const refuse = (refusal: Refusal): void => {
      options.onRefused(req, refusal);
      const body = JSON.stringify(refusalBody(refusal));
      res.writeHead(refusal.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        ...refusal.headers,
        ...options.corsHeaders(req),
      });
      res.end(body);
    };
    const session = req.method === 'OPTIONS' ? NOT_ENGINE : sessionOf(req, options.path);
    if (session === NOT_ENGINE) return pass();
    if (session !== NEW_SESSION) {
      const refusal = options.sessionCheck?.(session);
      return refusal ? refuse(refusal) : pass();
    }
    void decide(req).then((refusal) => (refusal ? refuse(refusal) : pass()));
  });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removed its own error listener before the upgrade; keep a peer that hangs up
    // during an async check from raising an unhandled 'error'.
    const onError = (): void => void socket.destroy();
    const pass = (): void => {
      socket.off('error', onError);
      upgradeListeners.forEach((listener) => listener.call(httpServer, req, socket, head));
    };
    const refuse = (refusal: Refusal): void => {
      options.onRefused(req, refusal);
      writeRawResponse(socket, refusal);
    };
    const session = sessionOf(req, options.path);
    if (session === NOT_ENGINE) return pass();
    if (session !== NEW_SESSION) {
      const refusal = options.sessionCheck?.(session);
      return refusal ? refuse(refusal) : pass();
    }
    socket.on('error', onError);
    void decide(req).then((refusal) => (refusal ? refuse(refusal) : pass()));
  });
}

const NOT_ENGINE = Symbol('not an engine.io request');
const NEW_SESSION = Symbol('opens a session');

/** Whether a request is for engine.io and, if so, the session it names or `NEW_SESSION`. */
function sessionOf(
  req: IncomingMessage,
  path: string,
): string | typeof NOT_ENGINE | typeof NEW_SESSION {
  if (!(req.url ?? '').startsWith(path)) return NOT_ENGINE;
  // Read as engine.io will read it, so no spelling of `sid` gets past the gate.
  return engineQuery(req).sid || NEW_SESSION;
}

function refusalBody(refusal: Refusal): object {
  return { code: refusal.code, reason: refusal.reason, message: refusal.message };
}

function writeRawResponse(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(refusalBody(refusal));
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      Object.entries(refusal.headers ?? {})
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
