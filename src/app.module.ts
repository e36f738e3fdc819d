import { type DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import type { Logger } from 'pino';
import { ApiModule } from './api/api.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ChatModule } from './chat/chat.module.js';
import { ClusterModule } from './cluster/cluster.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { ContractModule } from './contract/contract.module.js';
import { DemoModule } from './demo/demo.module.js';
import { HealthModule } from './health/health.module.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { SocketServerModule } from './socket-server/socket-server.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Platform: the two global modules, then what the socket server stands on.
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        MetricsModule,
        // In-process events (room and user lifecycle); the app's own @OnEvent listeners too.
        EventEmitterModule.forRoot(),
        ClusterModule,
        HealthModule,
        AuthModule,
        SocketServerModule,
        LifecycleModule,
        // Features.
        ChatModule,
        NotificationsModule,
        DemoModule,
        // GET /asyncapi.json and /docs/events: the contract of every gateway above (and yours).
        ContractModule,
        // The service API exists only with a key: without one, /api/* is a plain 404.
        ...(config.apiKey ? [ApiModule] : []),
      ],
    };
  }
}
