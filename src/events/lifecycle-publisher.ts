import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../logging/logging.module.js';
import type { LifecycleEventName, LifecyclePayload } from './lifecycle-events.js';
import { WEBHOOK_QUEUE, type WebhookQueue } from './webhooks/webhook-queue.js';

/** Hands each lifecycle transition to the app's `@OnEvent` listeners, and to the webhooks. */
@Injectable()
export class LifecyclePublisher {
  constructor(
    private readonly emitter: EventEmitter2,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(WEBHOOK_QUEUE) private readonly webhooks: WebhookQueue | null,
  ) {}

  publish(name: LifecycleEventName, subject: { room?: string; userId?: string }): void {
    const payload: LifecyclePayload = { name, ...subject, time_ms: Date.now() };
    this.webhooks
      ?.enqueue(payload)
      .catch((error: unknown) =>
        this.logger.error(
          { err: error, event: name },
          'a lifecycle event could not be queued for the webhook',
        ),
      );
    // A listener's failure is its own: the presence write that made the transition stands.
    this.emitter
      .emitAsync(name, payload)
      .catch((error: unknown) =>
        this.logger.error({ err: error, event: name }, 'lifecycle listener failed'),
      );
  }
}
