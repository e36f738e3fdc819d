import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Injectable,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import { GUARD_REFUSAL_MESSAGE } from '../compat/nest-websockets.js';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { isRedisUnavailable, RedisErrorLog } from '../cluster/redis-error-log.js';
import { deliverFailure, type Failure, toFailure, WsError } from './ws-error.js';

/**
 * The one place a handler's failure becomes wire format: through the ack when the client
 * sent one, else on the `exception` event. `WsError` keeps its code; a guard's refusal becomes
 * `FORBIDDEN`; anything else is logged once with its context and sent as `INTERNAL`.
 */
@Catch()
@Injectable()
export class WsErrorFilter implements ExceptionFilter {
  /** During a Redis outage every presence call fails the same way: one line per 10 s. */
  private readonly redisErrors: RedisErrorLog;

  /**
   * The filter is built in each gateway's own module: it asks for the app's MetricsService
   * through `ModuleRef` (from anywhere in the app), so a gateway's module imports nothing.
   */
  private metricsService: MetricsService | undefined;

  constructor(
    @Inject(APP_LOGGER) private readonly logger: Logger,
    private readonly moduleRef: ModuleRef,
  ) {
    this.redisErrors = new RedisErrorLog(logger);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const socket = ws.getClient<Socket>();
    const ack: unknown = host.getArgByIndex(2);
    const failure = this.toFailure(exception, socket, ws.getPattern());
    this.metrics().errorAnswered(socket.nsp.name, failure.error.code);
    deliverFailure(socket, ack, failure);
  }

  private metrics(): MetricsService {
    this.metricsService ??= this.moduleRef.get(MetricsService, { strict: false });
    if (!this.metricsService) throw new Error('MetricsModule is not part of the app');
    return this.metricsService;
  }

  private toFailure(exception: unknown, socket: Socket, event: string): Failure {
    if (exception instanceof WsError) return toFailure(exception);
    if (exception instanceof WsException && exception.message === GUARD_REFUSAL_MESSAGE) {
      return { ok: false, error: { code: 'FORBIDDEN', message: 'Forbidden' } };
    }
    if (isRedisUnavailable(exception)) {
      this.redisErrors.report(`handler ${socket.nsp.name} ${event}`, exception);
    } else {
      this.logger.error(
        { err: exception, event, namespace: socket.nsp.name, socketId: socket.id },
        'event handler failed',
      );
    }
    return toFailure(exception);
  }
}
