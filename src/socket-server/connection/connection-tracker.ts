import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import { siblingSockets } from '../../compat/socket-io.js';
import { userOf } from '../../gateway/socket-types.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { releaseAuthToken } from './handshake-release.js';
import { TokenExpiry } from './token-expiry.js';
import type { UserConnectionCap } from './user-connection-cap.js';

export interface ConnectionTrackerDeps {
  readonly userCap: UserConnectionCap;
  readonly metrics: MetricsService;
  readonly logger: Logger;
  /** Runs first in every namespace's `connection` listener (the cluster's recovery catch-up). */
  readonly onConnection?: (socket: Socket) => void;
}

/**
 * What every namespace socket gets from connect to disconnect: a count for its user, a line
 * in the log and the metrics at each end, and a disconnect at its token's expiry.
 */
export class ConnectionTracker {
  private readonly tokenExpiry: TokenExpiry;
  /**
   * One function for every socket's `disconnect` (EventEmitter calls it with the socket as
   * `this`): a closure per socket, and `once`'s wrapper, cost memory on every connection.
   */
  private readonly onDisconnect: (this: Socket, reason: string) => void;

  constructor(private readonly deps: ConnectionTrackerDeps) {
    const { metrics, logger, userCap } = deps;
    const tokenExpiry = new TokenExpiry((socket) =>
      logger.info(
        { namespace: socket.nsp.name, socketId: socket.id, userId: userOf(socket).id },
        'token expired',
      ),
    );
    this.tokenExpiry = tokenExpiry;
    this.onDisconnect = function (this: Socket, reason: string) {
      const user = userOf(this);
      tokenExpiry.untrack(this, user.expiresAt);
      // A connection counts for a user while any of its namespaces is connected as that
      // user (one connection can carry two users: a client that switched accounts).
      if (![...siblingSockets(this)].some((other) => userOf(other).id === user.id))
        userCap.remove(user.id, this.conn);
      metrics.disconnections.labels(this.nsp.name, reason).inc();
      logger.info(
        {
          event: 'disconnected',
          namespace: this.nsp.name,
          socketId: this.id,
          userId: user.id,
          reason,
          durationMs: Date.now() - this.handshake.issued,
        },
        'socket disconnected',
      );
    };
  }

  track(namespace: Namespace): void {
    const { metrics, logger, userCap, onConnection } = this.deps;
    metrics.trackNamespace(namespace.name, () => namespace.sockets.size);
    namespace.on('connection', (socket: Socket) => {
      releaseAuthToken(socket);
      onConnection?.(socket);
      const user = userOf(socket);
      userCap.add(user.id, socket.conn);
      metrics.connectionsOpened.labels(namespace.name).inc();
      logger.info(
        {
          event: 'connected',
          namespace: namespace.name,
          socketId: socket.id,
          userId: user.id,
          transport: socket.conn.transport.name,
        },
        'socket connected',
      );
      // `disconnect` fires once per socket: `on`, without `once`'s per-call wrapper.
      socket.on('disconnect', this.onDisconnect);
      this.tokenExpiry.track(socket, user.expiresAt);
    });
  }
}
