import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { ReadinessService } from '../health/readiness.service.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { Drainer } from '../socket-server/connection/drainer.js';

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
    private readonly drainer: Drainer,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.markReady();
  }

  async beforeApplicationShutdown(): Promise<void> {
    // 1. Stop getting traffic: readiness 503 at once; new handshakes get 503 (engine gate).
    this.readiness.markDraining();
    this.logger.info('draining');
    // 2. Tell every socket, then let the connections go in batches over SHUTDOWN_DRAIN_MS:
    //    clients reconnect by themselves, elsewhere, spread out. Presence is left alone, so
    //    users who come back elsewhere do not flap offline and online.
    await this.drainer.drain();
    // 3. NestJS then closes the Socket.IO servers, the adapter and its Redis clients (the
    //    presence store hands this instance's share over first), then the HTTP server.
  }
}
