import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClusterModule, REDIS } from '../cluster/cluster.module.js';
import type { RedisConnections } from '../cluster/redis-connections.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { EventsModule } from '../events/events.module.js';
import { HealthModule } from '../health/health.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RoomAccessModule } from './access/room-access.module.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatService } from './chat.service.js';
import { InMemoryRoomHistory } from './history/in-memory-room-history.js';
import { RedisRoomHistory } from './history/redis-room-history.js';
import { ROOM_HISTORY } from './history/room-history.js';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store.js';
import { PRESENCE_STORE } from './presence/presence.store.js';
import { RedisPresenceStore } from './presence/redis-presence.store.js';
import { LocalTypingFeed, RedisTypingFeed, TYPING_FEED } from './typing/typing-feed.js';
import { TypingService } from './typing/typing.service.js';

type Deps = [RedisConnections | null, AppConfig, Logger];
const DEPS = [REDIS, APP_CONFIG, APP_LOGGER];

@Module({
  imports: [ClusterModule, EventsModule, HealthModule, MetricsModule, RoomAccessModule],
  providers: [
    ChatGateway,
    ChatService,
    TypingService,
    {
      provide: PRESENCE_STORE,
      inject: DEPS,
      useFactory: async (...[redis, config, logger]: Deps) => {
        if (!redis) return new InMemoryPresenceStore();
        const store = new RedisPresenceStore(redis, { ttlS: config.presence.ttlS, logger });
        await store.start();
        return store;
      },
    },
    {
      // In Redis with REDIS_URL, whatever REDIS_ADAPTER is; none with ROOM_HISTORY_SIZE=0.
      provide: ROOM_HISTORY,
      inject: DEPS,
      useFactory: async (...[redis, config, logger]: Deps) => {
        const { size, ttlS } = config.history;
        if (size === 0) return null;
        if (!redis) return new InMemoryRoomHistory(size, ttlS);
        const history = new RedisRoomHistory(redis, size, ttlS, logger);
        await history.start();
        return history;
      },
    },
    {
      provide: TYPING_FEED,
      inject: DEPS,
      useFactory: async (...[redis]: Deps) => {
        if (!redis) return new LocalTypingFeed();
        const feed = new RedisTypingFeed(redis);
        await feed.start();
        return feed;
      },
    },
  ],
  exports: [ChatService],
})
export class ChatModule {}
