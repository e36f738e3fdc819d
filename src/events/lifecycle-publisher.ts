import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../logging/logging.module.js';
import type { LifecycleEventName, LifecyclePayload } from './lifecycle-events.js';

/** Hands each lifecycle transition to the app's `@OnEvent` listeners. */
@Injectable()
export class LifecyclePublisher {
  constructor(
    private readonly emitter: EventEmitter2,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  publish(name: LifecycleEventName, subject: { room?: string; userId?: string }): void {
    const payload: LifecyclePayload = { name, ...subject, time_ms: Date.now() };
    // A listener's failure is its own: the presence write that made the transition stands.
    this.emitter
      .emitAsync(name, payload)
      .catch((error: unknown) =>
        this.logger.error({ err: error, event: name }, 'lifecycle listener failed'),
      );
  }
}
