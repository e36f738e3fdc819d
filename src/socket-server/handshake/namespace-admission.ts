import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import type { HandshakeAuthenticator } from '../../auth/handshake-authenticator.js';
import type { ConnectRefusal as RefusalData } from '../../gateway/connect-refusal.js';
import { userOf } from '../../gateway/socket-types.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import type { UserConnectionCap } from '../connection/user-connection-cap.js';

/** A refusal as a `connect_error`: `err.message` and `err.data` reach the client. */
type RefusalError = Error & { data?: { code?: string; reason?: string } };

export interface ConnectRefusal {
  readonly message: string;
  readonly code: string;
  readonly reason: string;
}

/**
 * The `connect_error`s of the namespace middleware beside a refused token; each must be one of
 * the refusals the client contract types (`src/gateway/connect-refusal.ts`).
 */
export const CONNECT_REFUSALS = {
  unserved: { message: 'Invalid namespace', code: 'INVALID_NAMESPACE', reason: 'no_gateway' },
  overUserCap: {
    message: 'too many connections',
    code: 'TOO_MANY_CONNECTIONS',
    reason: 'too_many_connections',
  },
} as const satisfies Record<string, ConnectRefusal & RefusalData>;

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
    return refusal(CONNECT_REFUSALS.unserved);
  }

  /** Past `WS_MAX_CONNECTIONS_PER_USER`. */
  private overUserCap(socket: Socket): RefusalError | undefined {
    if (this.deps.userCap.admits(userOf(socket).id, socket.conn)) return undefined;
    return refusal(CONNECT_REFUSALS.overUserCap);
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

function refusal({ message, code, reason }: ConnectRefusal): RefusalError {
  return Object.assign(new Error(message), { data: { code, reason } });
}
