import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { HandshakeAuthenticator } from './auth/handshake-authenticator.js';
import type { AppConfig } from './config/app-config.js';
import { MetricsService } from './metrics/metrics.service.js';
import { corsOrigin } from './realtime/origin-policy.js';
import { RealtimeIoAdapter } from './realtime/realtime-io.adapter.js';

/** Wires an app built from `AppModule` the same way in `main.ts` and in the tests. */
export function setupApp(
  app: INestApplication,
  config: AppConfig,
  logger: Logger,
): RealtimeIoAdapter {
  const adapter = new RealtimeIoAdapter(app, {
    config,
    logger,
    authenticator: app.get(HandshakeAuthenticator),
    metrics: app.get(MetricsService),
  });
  app.useWebSocketAdapter(adapter);
  app.enableCors({ origin: corsOrigin(config.http.corsOrigins), credentials: true });
  return adapter;
}
