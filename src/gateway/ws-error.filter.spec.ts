import { jest } from '@jest/globals';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { Test } from '@nestjs/testing';
import { WsException } from '@nestjs/websockets';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { WsErrorFilter } from './ws-error.filter.js';
import { EXCEPTION_EVENT, type Failure, WsError } from './ws-error.js';

const NAMESPACE = '/chat';
const EVENT = 'message:send';

function fakeSocket() {
  return { id: 'socket-1', nsp: { name: NAMESPACE }, emit: jest.fn() };
}

/** The arguments NestJS hands a filter for a socket.io message: client, data, ack, pattern. */
function wsHost(socket: ReturnType<typeof fakeSocket>, ack: unknown): ExecutionContextHost {
  const host = new ExecutionContextHost([socket, { room: 'lobby', text: 'hi' }, ack, EVENT]);
  host.setType('ws');
  return host;
}

const INTERNAL: Failure = { ok: false, error: { code: 'INTERNAL', message: 'Internal error' } };

describe('WsErrorFilter', () => {
  let filter: WsErrorFilter;
  let metrics: MetricsService;
  let logger: { error: jest.Mock };
  let socket: ReturnType<typeof fakeSocket>;

  beforeEach(async () => {
    logger = { error: jest.fn() };
    const moduleRef = await Test.createTestingModule({
      providers: [WsErrorFilter, MetricsService, { provide: APP_LOGGER, useValue: logger }],
    }).compile();
    filter = moduleRef.get(WsErrorFilter);
    metrics = moduleRef.get(MetricsService);
    socket = fakeSocket();
  });

  async function errorCount(code: string): Promise<number> {
    const text = await metrics.registry.getSingleMetricAsString('ws_event_errors_total');
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`ws_event_errors_total{namespace="${NAMESPACE}",code="${code}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('answers a WsError through the ack with its own code and message', () => {
    const ack = jest.fn();
    filter.catch(new WsError('NOT_IN_ROOM', 'Join "lobby" first'), wsHost(socket, ack));
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack).toHaveBeenCalledWith({
      ok: false,
      error: { code: 'NOT_IN_ROOM', message: 'Join "lobby" first' },
    });
    expect(socket.emit).not.toHaveBeenCalled();
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('emits the same failure on the exception event when the client sent no ack', () => {
    filter.catch(new WsError('VALIDATION', 'text: must not be empty'), wsHost(socket, undefined));
    expect(socket.emit).toHaveBeenCalledTimes(1);
    expect(socket.emit).toHaveBeenCalledWith(EXCEPTION_EVENT, {
      ok: false,
      error: { code: 'VALIDATION', message: 'text: must not be empty' },
    });
  });

  it('emits on the exception event when argument 2 is not a function', () => {
    filter.catch(new WsError('VALIDATION', 'bad'), wsHost(socket, { not: 'an ack' }));
    expect(socket.emit).toHaveBeenCalledWith(
      EXCEPTION_EVENT,
      expect.objectContaining({ ok: false }),
    );
  });

  it("turns a guard's refusal into FORBIDDEN, without logging it", () => {
    const ack = jest.fn();
    filter.catch(new WsException('Forbidden resource'), wsHost(socket, ack));
    expect(ack).toHaveBeenCalledWith({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'Forbidden' },
    });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('answers an unknown error with a generic INTERNAL that leaks nothing', () => {
    const ack = jest.fn();
    filter.catch(new Error('connect ECONNREFUSED 10.0.0.7:6379'), wsHost(socket, ack));
    expect(ack).toHaveBeenCalledWith(INTERNAL);
  });

  it('answers an unknown error on the exception event when there is no ack', () => {
    filter.catch(new TypeError('x is undefined'), wsHost(socket, undefined));
    expect(socket.emit).toHaveBeenCalledWith(EXCEPTION_EVENT, INTERNAL);
  });

  it('treats any other WsException as unknown', () => {
    const ack = jest.fn();
    filter.catch(new WsException('table users does not exist'), wsHost(socket, ack));
    expect(ack).toHaveBeenCalledWith(INTERNAL);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('logs an unknown error once, with the event, namespace and socket', () => {
    const error = new Error('boom');
    filter.catch(error, wsHost(socket, jest.fn()));
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(
      { err: error, event: EVENT, namespace: NAMESPACE, socketId: 'socket-1' },
      expect.any(String),
    );
  });

  it('counts every failure by namespace and code', async () => {
    filter.catch(new Error('boom'), wsHost(socket, jest.fn()));
    filter.catch(new Error('boom again'), wsHost(socket, undefined));
    filter.catch(new WsError('RATE_LIMITED', 'Slow down'), wsHost(socket, jest.fn()));
    expect(await errorCount('INTERNAL')).toBe(2);
    expect(await errorCount('RATE_LIMITED')).toBe(1);
    expect(await errorCount('VALIDATION')).toBe(0);
  });
});
