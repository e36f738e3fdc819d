import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClusterModule, REDIS } from '../cluster/cluster.module.js';
import type { RedisConnections } from '../cluster/redis-connections.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { LifecyclePublisher } from './lifecycle-publisher.js';
import { InMemoryWebhookQueue } from './webhooks/in-memory-webhook-queue.js';
import { RedisWebhookQueue } from './webhooks/redis-webhook-queue.js';
import { WEBHOOK_QUEUE, type WebhookQueue } from './webhooks/webhook-queue.js';

/**
 * Room and user lifecycle events for the app's `@OnEvent` listeners, and as signed webhooks
 * with `WEBHOOK_URL`. The emitter itself (`EventEmitterModule.forRoot()`) is registered once,
 * in the app module.
 */
@Module({
  imports: [ClusterModule],
  providers: [
    LifecyclePublisher,
    {
      provide: WEBHOOK_QUEUE,
      inject: [REDIS, APP_CONFIG, APP_LOGGER],
      useFactory: async (
        redis: RedisConnections | null,
        { webhook }: AppConfig,
        logger: Logger,
      ): Promise<WebhookQueue | null> => {
        if (!webhook) return null;
        const consumer = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
        const queue = redis
          ? new RedisWebhookQueue(redis, webhook.url, webhook.secret, consumer, logger)
          : new InMemoryWebhookQueue(webhook.url, webhook.secret);
        await queue.start();
        return queue;
      },
    },
  ],
  exports: [LifecyclePublisher],
})
export class EventsModule {}
