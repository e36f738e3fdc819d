import { Module } from '@nestjs/common';
import { ClusterModule, REDIS } from '../cluster/cluster.module.js';
import type { RedisConnections } from '../cluster/redis-connections.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { InMemoryInbox } from './inbox/in-memory-inbox.js';
import { INBOX } from './inbox/inbox.js';
import { RedisInbox } from './inbox/redis-inbox.js';
import { NotificationsGateway } from './notifications.gateway.js';
import { NotificationsService } from './notifications.service.js';

@Module({
  imports: [ClusterModule, MetricsModule],
  providers: [
    NotificationsGateway,
    NotificationsService,
    {
      // In Redis with REDIS_URL (shared by every instance), else in this process.
      provide: INBOX,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: RedisConnections | null, { inbox }: AppConfig) =>
        redis
          ? new RedisInbox(redis, inbox.size, inbox.ttlS)
          : new InMemoryInbox(inbox.size, inbox.ttlS),
    },
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
