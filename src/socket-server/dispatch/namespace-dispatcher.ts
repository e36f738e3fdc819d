import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Logger } from 'pino';
import { isObservable } from 'rxjs';
import type { Socket } from 'socket.io';
import { directHandlerOf, type GatewaySubscriber } from '../../compat/nest-websockets.js';
import { setOnlyAnyListener } from '../../compat/socket-io.js';
import { userOf } from '../../gateway/socket-types.js';
import { deliverFailure, type ErrorCode, type Failure } from '../../gateway/ws-error.js';
import type { EventInstruments, MetricsService } from '../../metrics/metrics.service.js';
import { TokenBucket } from './token-bucket.js';

interface Handler {
  /** Calls the handler for one socket. */
  readonly call: (socket: Socket, data: unknown, ack: AckFn | undefined) => unknown;
  /** Whether `call` skips NestJS's per-message context (no guard, interceptor or pipe of its own). */
  readonly direct: boolean;
  readonly ackHandledManually: boolean;
  readonly instruments: EventInstruments;
}

/** What a socket carries for the dispatcher: its rate limit, and how often it hit it in a row. */
class SocketState extends TokenBucket {
  refusedInARow = 0;
}

type AckFn = (response: unknown) => void;

export interface DispatcherOptions {
  readonly metrics: MetricsService;
  readonly logger: Logger;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
}

const UNKNOWN_EVENT = 'unknown';
const STATE = Symbol('dispatcher state');
type WithState = Socket & { [STATE]?: SocketState };

/**
 * Routes the incoming events of one namespace's sockets to its gateway handlers, in place
 * of NestJS's stock rxjs pipeline per handler per socket. One handler table and one `onAny`
 * listener serve every socket of the namespace (Socket.IO calls it with the socket as
 * `this`); a socket carries only its token bucket. Every event passes the same steps: the
 * bucket is charged, unknown names are answered, the handler runs, and its return value
 * becomes the ack.
 */
export class NamespaceDispatcher {
  private readonly handlers = new Map<string, Handler>();
  private readonly gateways = new WeakSet<object>();
  /** Whether a gateway of this namespace has `handleDisconnect` (NestJS then needs a hook). */
  needsDisconnectHook = false;
  private readonly unknown: EventInstruments;
  private readonly floodLimit: number;
  /** The `onAny` listener of every socket of the namespace. */
  private readonly listener: (this: Socket, event: string, ...args: unknown[]) => void;

  constructor(
    private readonly namespace: string,
    private readonly options: DispatcherOptions,
  ) {
    this.unknown = options.metrics.forEvent(namespace, UNKNOWN_EVENT);
    this.floodLimit = floodLimitFor(options.rateLimit.burst);
    const dispatch = this.dispatch.bind(this);
    this.listener = function (this: Socket, event: string, ...args: unknown[]) {
      dispatch(this, event, args);
    };
  }

  /** A gateway's handlers, each called with `(socket, data, ack)` (once per gateway). */
  addGateway(instance: object, subscribers: readonly GatewaySubscriber[]): void {
    if (this.gateways.has(instance)) return;
    this.gateways.add(instance);
    const { handleDisconnect } = instance as { handleDisconnect?: unknown };
    if (typeof handleDisconnect === 'function') this.needsDisconnectHook = true;
    for (const { message, callback, isAckHandledManually } of subscribers) {
      const direct = directHandlerOf(callback);
      this.addHandler(
        message,
        direct ?? ((socket, data, ack) => callback.call(instance, socket, data, ack)),
        isAckHandledManually,
        direct !== undefined,
      );
    }
  }

  /**
   * Handlers NestJS bound to one socket (its stock `subscribeMessages`): for a dispatcher
   * that serves that socket alone.
   */
  addBound(handlers: readonly MessageMappingProperties[]): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      const bound = callback as (data: unknown, ack: unknown) => unknown;
      this.addHandler(message, (_socket, data, ack) => bound(data, ack), isAckHandledManually);
    }
  }

  /** Starts dispatching `socket`'s events (once per socket). */
  attach(socket: Socket): void {
    const withState = socket as WithState;
    if (withState[STATE]) return;
    const { perSecond, burst } = this.options.rateLimit;
    withState[STATE] = new SocketState(perSecond, burst, performance.now());
    setOnlyAnyListener(socket, this.listener);
  }

  /** The events whose handlers are called directly, and those that go through NestJS's context. */
  handlerPaths(): { direct: string[]; nest: string[] } {
    const paths = { direct: [] as string[], nest: [] as string[] };
    for (const [event, { direct }] of this.handlers) paths[direct ? 'direct' : 'nest'].push(event);
    return paths;
  }

  private addHandler(
    message: unknown,
    call: Handler['call'],
    manualAck?: boolean,
    direct = false,
  ): void {
    const event = String(message);
    this.handlers.set(event, {
      call,
      direct,
      ackHandledManually: manualAck === true,
      instruments: this.options.metrics.forEvent(this.namespace, event),
    });
  }

  private dispatch(socket: Socket, event: string, args: unknown[]): void {
    const state = (socket as WithState)[STATE]!;
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as AckFn) : undefined;
    const handler = this.handlers.get(event);
    (handler?.instruments ?? this.unknown).received.inc();
    const startedAt = performance.now();
    // Charged before the name is looked at: unknown events count against the limit too.
    if (!state.take(startedAt)) {
      this.refuse(socket, state, ack);
      return;
    }
    state.refusedInARow = 0;
    if (!handler) {
      this.fail(socket, ack, 'VALIDATION', 'Unknown event');
      return;
    }
    const data = payloadOf(args, ack ? args.length - 1 : args.length);
    let result: unknown;
    try {
      result = handler.call(socket, data, ack);
    } catch (error) {
      this.internal(socket, event, error, ack);
      return;
    }
    if (!isThenable(result)) {
      try {
        this.respond(socket, handler, result, ack, startedAt);
      } catch (error) {
        this.internal(socket, event, error, ack);
      }
      return;
    }
    result.then(
      (value) => this.respond(socket, handler, value, ack, startedAt),
      (error: unknown) => this.internal(socket, event, error, ack),
    );
  }

  /**
   * A limited event with an ack gets its RATE_LIMITED ack; without one, only the first of a
   * run is told on `exception`, so a flood cannot make the server write one packet per event.
   * A socket that keeps going long after being limited is disconnected.
   */
  private refuse(socket: Socket, state: SocketState, ack: AckFn | undefined): void {
    state.refusedInARow += 1;
    if (state.refusedInARow > this.floodLimit) {
      this.options.logger.warn(
        {
          namespace: this.namespace,
          socketId: socket.id,
          userId: userOf(socket).id,
          refused: state.refusedInARow,
        },
        'disconnecting a socket that kept flooding past its rate limit',
      );
      socket.disconnect(true);
      return;
    }
    if (ack || state.refusedInARow === 1)
      this.fail(socket, ack, 'RATE_LIMITED', 'Too many events; slow down');
    else this.options.metrics.errorAnswered(this.namespace, 'RATE_LIMITED');
  }

  private respond(
    socket: Socket,
    handler: Handler,
    value: unknown,
    ack: AckFn | undefined,
    startedAt: number,
  ): void {
    if (isObservable(value)) {
      value.subscribe({
        next: (item) => this.respond(socket, handler, item, ack, startedAt),
        error: (error: unknown) => this.internal(socket, 'observable', error, ack),
      });
      return;
    }
    handler.instruments.duration.observe((performance.now() - startedAt) / 1000);
    if (value === undefined || value === null) return;
    const response = value as { event?: unknown; data?: unknown };
    if (typeof response.event === 'string') {
      socket.emit(response.event, response.data);
    } else if (ack && !handler.ackHandledManually) {
      ack(value);
    }
  }

  /** Only reached when a handler escapes its exception filter: a bug, logged once. */
  private internal(socket: Socket, event: string, error: unknown, ack: AckFn | undefined): void {
    this.options.logger.error(
      { err: error, event, namespace: this.namespace, socketId: socket.id },
      'event handler failed outside its exception filter',
    );
    this.fail(socket, ack, 'INTERNAL', 'Internal error');
  }

  private fail(socket: Socket, ack: AckFn | undefined, code: ErrorCode, message: string): void {
    this.options.metrics.errorAnswered(this.namespace, code);
    const failure: Failure = { ok: false, error: { code, message } };
    deliverFailure(socket, ack, failure);
  }
}

/**
 * What NestJS's stock adapter hands a handler (`IoAdapter.mapPayload`): nothing, the one
 * argument as itself, or several as an array (binary attachments arrive as `Buffer`s).
 */
function payloadOf(args: readonly unknown[], count: number): unknown {
  if (count === 0) return undefined;
  return count === 1 ? args[0] : args.slice(0, count);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** How many events in a row past the limit a socket may send before it is disconnected. */
export function floodLimitFor(burst: number): number {
  return Math.max(100, 5 * burst);
}
