import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import type { HandshakeAuthenticator } from '../../auth/handshake-authenticator.js';
import { userOf } from '../../gateway/socket-types.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import type { UserConnectionCap } from '../connection/user-connection-cap.js';

/** A refusal as a `connect_error`: `err.message` and `err.data` reach the client. */
type RefusalError = Error & { data?: { code?: string; reason?: string } };

export interface NamespaceAdmissionDeps {
  readonly authenticator: HandshakeAuthenticator;
  readonly userCap: UserConnectionCap;
  readonly metrics: MetricsService;
  readonly logger: Logger;
}

/**
 * The namespace middleware every namespace gets, `/` included, before any socket exists:
 * the token (`auth.token`, or the one the HTTP request carried), a gateway to answer, and the
 * per-user connection cap. A refusal is a `connect_error` with `{ code, reason }`, counted
 * and logged.
 */
export class NamespaceAdmission {
  /** Namespaces a gateway serves. */
  private readonly served = new Set<string>();

  constructor(private readonly deps: NamespaceAdmissionDeps) {}

  /** A gateway serves `namespace`. */
  serve(namespace: string): void {
    this.served.add(namespace);
  }

  guard(namespace: Namespace): void {
    namespace.use((socket, next) =>
      this.deps.authenticator.middleware(socket, (authError?: RefusalError) => {
        const error = authError ?? this.unserved(namespace) ?? this.overUserCap(socket);
        if (error) this.onRefused(namespace, error);
        next(error);
      }),
    );
  }

  /**
   * Socket.IO always has the main namespace `/`, and socket.io-client connects there when a
   * URL names no namespace: with no gateway at `/`, such a client would be connected and
   * never answered. It is refused the way Socket.IO refuses any namespace nobody serves.
   */
  private unserved(namespace: Namespace): RefusalError | undefined {
    if (namespace.name !== '/' || this.served.has('/')) return undefined;
    return refusal('Invalid namespace', 'INVALID_NAMESPACE', 'no_gateway');
  }

  /** Past `WS_MAX_CONNECTIONS_PER_USER`. */
  private overUserCap(socket: Socket): RefusalError | undefined {
    if (this.deps.userCap.admits(userOf(socket).id, socket.conn)) return undefined;
    return refusal('too many connections', 'TOO_MANY_CONNECTIONS', 'too_many_connections');
  }

  private onRefused(namespace: Namespace, error: RefusalError): void {
    const reason = error.data?.reason ?? 'unknown';
    this.deps.metrics.connectionsRefused.labels(reason).inc();
    this.deps.logger.info(
      { event: 'refused', namespace: namespace.name, reason },
      'connection refused',
    );
  }
}

function refusal(message: string, code: string, reason: string): RefusalError {
  return Object.assign(new Error(message), { data: { code, reason } });
}
