import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Logger } from 'pino';
import { isObservable } from 'rxjs';
import type { Socket } from 'socket.io';
import type { EventInstruments, MetricsService } from '../metrics/metrics.service.js';
import { TokenBucket } from './token-bucket.js';
import { deliverFailure, type ErrorCode, type Failure } from './ws-error.js';

interface BoundHandler {
  readonly callback: (data: unknown, ack: unknown) => unknown;
  readonly ackHandledManually: boolean;
  readonly instruments: EventInstruments;
}

type AckFn = (response: unknown) => void;

export interface DispatcherOptions {
  readonly metrics: MetricsService;
  readonly logger: Logger;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
}

const UNKNOWN_EVENT = 'unknown';

/**
 * Routes a socket's incoming events to its gateway handlers with one `onAny` listener, in
 * place of NestJS's stock rxjs pipeline per handler per socket. Every event passes the same
 * steps: the socket's token bucket is charged, unknown names are answered, the handler runs,
 * and its return value becomes the ack.
 */
export class SocketDispatcher {
  private readonly handlers = new Map<string, BoundHandler>();
  private readonly bucket: TokenBucket;
  private readonly unknown: EventInstruments;
  /** Events refused in a row; reset by the next event the bucket lets through. */
  private refusedInARow = 0;
  private readonly floodLimit: number;

  constructor(
    private readonly socket: Socket,
    private readonly options: DispatcherOptions,
  ) {
    const { perSecond, burst } = options.rateLimit;
    this.bucket = new TokenBucket(perSecond, burst, performance.now());
    this.floodLimit = floodLimitFor(burst);
    this.unknown = options.metrics.forEvent(socket.nsp.name, UNKNOWN_EVENT);
    socket.onAny(this.dispatch);
  }

  add(handlers: readonly MessageMappingProperties[]): void {
    const namespace = this.socket.nsp.name;
    for (const { message, callback, isAckHandledManually } of handlers) {
      const event = String(message);
      this.handlers.set(event, {
        callback: callback as BoundHandler['callback'],
        ackHandledManually: isAckHandledManually === true,
        instruments: this.options.metrics.forEvent(namespace, event),
      });
    }
  }

  private readonly dispatch = (event: string, ...args: unknown[]): void => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as AckFn) : undefined;
    const handler = this.handlers.get(event);
    (handler?.instruments ?? this.unknown).received.inc();
    const startedAt = performance.now();
    // Charged before the name is looked at: unknown events count against the limit too.
    if (!this.bucket.take(startedAt)) {
      this.refuse(ack);
      return;
    }
    this.refusedInARow = 0;
    if (!handler) {
      this.fail(ack, 'VALIDATION', 'Unknown event');
      return;
    }
    const data = args.length > (ack ? 1 : 0) ? args[0] : undefined;
    let result: unknown;
    try {
      result = handler.callback(data, ack);
    } catch (error) {
      this.internal(event, error, ack);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.respond(handler, value, ack, startedAt),
      (error: unknown) => this.internal(event, error, ack),
    );
  };

  /**
   * A limited event with an ack gets its RATE_LIMITED ack; without one, only the first of a
   * run is told on `exception`, so a flood cannot make the server write one packet per event.
   * A socket that keeps going long after being limited is disconnected.
   */
  private refuse(ack: AckFn | undefined): void {
    this.refusedInARow += 1;
    if (this.refusedInARow > this.floodLimit) {
      this.options.logger.warn(
        {
          namespace: this.socket.nsp.name,
          socketId: this.socket.id,
          userId: userIdOf(this.socket),
          refused: this.refusedInARow,
        },
        'disconnecting a socket that kept flooding past its rate limit',
      );
      this.socket.disconnect(true);
      return;
    }
    if (ack || this.refusedInARow === 1)
      this.fail(ack, 'RATE_LIMITED', 'Too many events; slow down');
    else this.options.metrics.errorAnswered(this.socket.nsp.name, 'RATE_LIMITED');
  }

  private respond(
    handler: BoundHandler,
    value: unknown,
    ack: AckFn | undefined,
    startedAt: number,
  ): void {
    if (isObservable(value)) {
      value.subscribe({
        next: (item) => this.respond(handler, item, ack, startedAt),
        error: (error: unknown) => this.internal('observable', error, ack),
      });
      return;
    }
    handler.instruments.duration.observe((performance.now() - startedAt) / 1000);
    if (value === undefined || value === null) return;
    const response = value as { event?: unknown; data?: unknown };
    if (typeof response.event === 'string') {
      this.socket.emit(response.event, response.data);
    } else if (ack && !handler.ackHandledManually) {
      ack(value);
    }
  }

  /** Only reached when a handler escapes its exception filter: a bug, logged once. */
  private internal(event: string, error: unknown, ack: AckFn | undefined): void {
    this.options.logger.error(
      { err: error, event, namespace: this.socket.nsp.name, socketId: this.socket.id },
      'event handler failed outside its exception filter',
    );
    this.fail(ack, 'INTERNAL', 'Internal error');
  }

  private fail(ack: AckFn | undefined, code: ErrorCode, message: string): void {
    this.options.metrics.errorAnswered(this.socket.nsp.name, code);
    const failure: Failure = { ok: false, error: { code, message } };
    deliverFailure(this.socket, ack, failure);
  }
}

/** How many events in a row past the limit a socket may send before it is disconnected. */
export function floodLimitFor(burst: number): number {
  return Math.max(100, 5 * burst);
}

function userIdOf(socket: Socket): string | undefined {
  return (socket.data as { user?: { id: string } }).user?.id;
}
