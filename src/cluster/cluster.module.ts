import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisConnections } from './redis-connections.js';
import { registerRedisMetrics } from './redis-metrics.js';

/** `RedisConnections` when `REDIS_URL` is set, else `null` (one instance, in memory). */
export const REDIS = Symbol('REDIS');

@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG, APP_LOGGER, MetricsService],
      // Connected while the app is built, before it listens: an unreachable Redis stops
      // the start with a message that names REDIS_URL.
      useFactory: async (
        config: AppConfig,
        logger: Logger,
        metrics: MetricsService,
      ): Promise<RedisConnections | null> => {
        if (!config.redis) return null;
        const redis = await RedisConnections.connect(config.redis, logger);
        registerRedisMetrics(metrics.registry, redis.watch);
        return redis;
      },
    },
  ],
  exports: [REDIS],
})
export class ClusterModule {}
