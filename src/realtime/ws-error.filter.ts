import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Injectable,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { isRedisUnavailable, RedisErrorLog } from '../redis/redis-error-log.js';
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

  constructor(
    @Inject(APP_LOGGER) private readonly logger: Logger,
    private readonly metrics: MetricsService,
  ) {
    this.redisErrors = new RedisErrorLog(logger);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ws = host.switchToWs();
    const socket = ws.getClient<Socket>();
    const ack: unknown = host.getArgByIndex(2);
    const failure = this.toFailure(exception, socket, ws.getPattern());
    this.metrics.errorAnswered(socket.nsp.name, failure.error.code);
    deliverFailure(socket, ack, failure);
  }

  private toFailure(exception: unknown, socket: Socket, event: string): Failure {
    if (exception instanceof WsError) return toFailure(exception);
    if (exception instanceof WsException && exception.message === 'Forbidden resource') {
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
