import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { HandshakeAuthenticator } from './auth/handshake-authenticator.js';
import type { AppConfig } from './config/app-config.js';
import { ReadinessService } from './health/readiness.service.js';
import { RealtimeServerRef } from './lifecycle/drainer.js';
import { MetricsService } from './metrics/metrics.service.js';
import { NOTIFICATIONS_NAMESPACE } from './notifications/notifications.events.js';
import type { RedisConnections } from './redis/redis-connections.js';
import { REDIS } from './redis/redis.module.js';
import { corsOrigin } from './realtime/origin-policy.js';
import { RealtimeIoAdapter } from './realtime/realtime-io.adapter.js';

/** Wires an app built from `AppModule` the same way in `main.ts` and in the tests. */
export async function setupApp(
  app: INestApplication,
  config: AppConfig,
  logger: Logger,
): Promise<RealtimeIoAdapter> {
  const redis = app.get<RedisConnections | null>(REDIS);
  const adapter = new RealtimeIoAdapter(app, {
    config,
    logger,
    authenticator: app.get(HandshakeAuthenticator),
    metrics: app.get(MetricsService),
    redis: redis ?? undefined,
    classicNamespaces: [NOTIFICATIONS_NAMESPACE],
    serverRef: app.get(RealtimeServerRef),
    readiness: app.get(ReadinessService),
  });
  await adapter.prepareCluster();
  app.useWebSocketAdapter(adapter);
  app.enableCors({ origin: corsOrigin(config.http.corsOrigins), credentials: true });
  return adapter;
}
