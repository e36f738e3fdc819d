import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { HandshakeAuthenticator } from './auth/handshake-authenticator.js';
import { createClusterSetup } from './cluster/cluster-adapter.js';
import { REDIS } from './cluster/cluster.module.js';
import type { RedisConnections } from './cluster/redis-connections.js';
import type { AppConfig } from './config/app-config.js';
import { ReadinessService } from './health/readiness.service.js';
import { MetricsService } from './metrics/metrics.service.js';
import { NOTIFICATIONS_NAMESPACE } from './notifications/notifications.events.js';
import { SocketServerRef } from './socket-server/connection/socket-server-ref.js';
import { corsOrigin } from './socket-server/handshake/origin-policy.js';
import {
  type RealtimeAdapterDeps,
  RealtimeIoAdapter,
} from './socket-server/realtime-io.adapter.js';

/** Wires an app built from `AppModule` the same way in `main.ts` and in the tests. */
export async function setupApp(
  app: INestApplication,
  config: AppConfig,
  logger: Logger,
  options: Pick<RealtimeAdapterDeps, 'routeGateways'> = {},
): Promise<RealtimeIoAdapter> {
  const redis = app.get<RedisConnections | null>(REDIS);
  // `/notifications` keeps the classic adapter whatever REDIS_ADAPTER says: it is what
  // `@socket.io/redis-emitter` speaks, and any process may notify a user through it.
  const cluster =
    redis && config.redis
      ? await createClusterSetup(redis, config.redis.adapter, [NOTIFICATIONS_NAMESPACE])
      : undefined;
  const deps: RealtimeAdapterDeps = {
    config,
    logger,
    authenticator: app.get(HandshakeAuthenticator),
    metrics: app.get(MetricsService),
    serverRef: app.get(SocketServerRef),
    readiness: app.get(ReadinessService),
    cluster,
    ...options,
  };
  // The Socket.IO admin UI at /admin, with ADMIN_UI_USER set: only then is its code loaded.
  const { adminUi } = config;
  const adapter = adminUi
    ? await import('./admin/admin-ui.adapter.js').then((admin) =>
        admin.createAdminUiAdapter(app, deps, adminUi, redis),
      )
    : new RealtimeIoAdapter(app, deps);
  app.useWebSocketAdapter(adapter);
  app.enableCors({ origin: corsOrigin(config.http.corsOrigins), credentials: true });
  return adapter;
}
