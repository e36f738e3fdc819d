import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import type { RedisConnections } from '../cluster/redis-connections.js';
import { RedisPresenceStore } from './presence/redis-presence.store.js';
import { ClusterModule, REDIS } from '../cluster/cluster.module.js';
import { HealthModule } from '../health/health.module.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatService } from './chat.service.js';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store.js';
import { PRESENCE_STORE } from './presence/presence.store.js';

@Module({
  imports: [ClusterModule, HealthModule, MetricsModule],
  providers: [
    ChatGateway,
    ChatService,
    {
      provide: PRESENCE_STORE,
      inject: [REDIS, APP_CONFIG, APP_LOGGER],
      useFactory: async (redis: RedisConnections | null, config: AppConfig, logger: Logger) => {
        if (!redis) return new InMemoryPresenceStore();
        const store = new RedisPresenceStore(redis, { ttlS: config.presence.ttlS, logger });
        await store.start();
        return store;
      },
    },
  ],
  exports: [ChatService],
})
export class ChatModule {}
