import type { ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/app-config.js';
import { corsOrigin } from './handshake/origin-policy.js';

export const SOCKET_IO_PATH = '/socket.io';

/**
 * The Socket.IO server's options, from the configuration. Set once here: only the first
 * gateway on a port creates the server, and the options other gateways pass are ignored.
 */
export function socketServerOptions({ ws, http }: AppConfig): Partial<ServerOptions> {
  return {
    path: SOCKET_IO_PATH,
    serveClient: false,
    transports: [...ws.transports],
    pingInterval: ws.pingIntervalMs,
    pingTimeout: ws.pingTimeoutMs,
    maxHttpBufferSize: ws.maxPayloadBytes,
    cors: { origin: corsOrigin(http.corsOrigins), credentials: true },
    // An engine.io connection that joins no namespace (no auth, then) is closed after this.
    connectTimeout: ws.connectTimeoutMs,
  };
}
