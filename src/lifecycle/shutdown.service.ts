import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { ReadinessService } from '../health/readiness.service.js';
import { APP_LOGGER } from '../logging/logging.module.js';

/**
 * The shutdown sequence, in order (started by `handleShutdownSignals` or `app.close()`).
 * NestJS runs `beforeApplicationShutdown` before it closes
 * the Socket.IO servers and the adapter (`dispose()`), then the HTTP server: so readiness
 * turns 503 first, while every socket is still open and can be told to go elsewhere.
 */
@Injectable()
export class ShutdownService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly readiness: ReadinessService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.markReady();
  }

  beforeApplicationShutdown(): void {
    // 1. Stop getting traffic: readiness 503 at once.
    this.readiness.markDraining();
    this.logger.info('draining');
    // 2. (Draining of sockets in batches comes here.)
    // 3. NestJS then closes the Socket.IO servers, the adapter's clients and the HTTP server.
  }
}
