import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { RedisConnections } from './redis-connections.js';

/** `RedisConnections` when `REDIS_URL` is set, else `null` (one instance, in memory). */
export const REDIS = Symbol('REDIS');

@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG, APP_LOGGER],
      // Connected while the app is built, before it listens: an unreachable Redis stops
      // the start with a message that names REDIS_URL.
      useFactory: (config: AppConfig, logger: Logger): Promise<RedisConnections | null> =>
        config.redis ? RedisConnections.connect(config.redis, logger) : Promise.resolve(null),
    },
  ],
  exports: [REDIS],
})
export class ClusterModule {}
