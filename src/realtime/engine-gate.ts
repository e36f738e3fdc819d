import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

/** Why a handshake is turned away, and with which HTTP status. */
export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly reason: string;
  readonly message: string;
}

/**
 * A check on a new engine.io handshake (a polling request or a WebSocket upgrade without a
 * session id). It may be async; `undefined` lets the handshake through.
 */
export type HandshakeCheck = (
  req: IncomingMessage,
) => Refusal | undefined | Promise<Refusal | undefined>;

export interface EngineGateOptions {
  readonly path: string;
  readonly checks: readonly HandshakeCheck[];
  /** CORS headers for a refused polling request, so a browser can read the status. */
  readonly corsHeaders: (req: IncomingMessage) => Record<string, string>;
  readonly onRefused: (req: IncomingMessage, refusal: Refusal) => void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

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

  const isHandshake = (req: IncomingMessage): boolean => {
    const url = req.url ?? '';
    return url.startsWith(options.path) && !/[?&]sid=/.test(url);
  };

  const check = async (req: IncomingMessage): Promise<Refusal | undefined> => {
    for (const handshakeCheck of options.checks) {
      const refusal = await handshakeCheck(req);
      if (refusal) return refusal;
    }
    return undefined;
  };

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const pass = (): void =>
      requestListeners.forEach((listener) => listener.call(httpServer, req, res));
    if (!isHandshake(req) || req.method === 'OPTIONS') return pass();
    check(req).then(
      (refusal) => {
        if (!refusal) return pass();
        options.onRefused(req, refusal);
        const body = JSON.stringify(refusalBody(refusal));
        res.writeHead(refusal.status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          ...options.corsHeaders(req),
        });
        res.end(body);
      },
      () => {
        res.writeHead(500).end();
      },
    );
  });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removed its own error listener before the upgrade; keep a peer that hangs up
    // during an async check from raising an unhandled 'error'.
    const onError = (): void => void socket.destroy();
    const pass = (): void => {
      socket.off('error', onError);
      upgradeListeners.forEach((listener) => listener.call(httpServer, req, socket, head));
    };
    if (!isHandshake(req)) return pass();
    socket.on('error', onError);
    check(req).then(
      (refusal) => {
        if (!refusal) return pass();
        options.onRefused(req, refusal);
        writeRawResponse(socket, refusal);
      },
      () => socket.destroy(),
    );
  });
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
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
