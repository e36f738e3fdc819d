import { jest } from '@jest/globals';
import type { Logger } from 'pino';
import { crashPolicy } from './crash-policy.js';

function fakeLogger() {
  return { warn: jest.fn(), fatal: jest.fn() };
}

function redisError(name: string): Error {
  const error = new Error('The client is offline');
  error.name = name;
  return error;
}

describe('crash policy', () => {
  it('keeps running on a stray Redis-unavailable rejection, logged at a sane rate', () => {
    const logger = fakeLogger();
    const exit = jest.fn();
    const policy = crashPolicy(logger as unknown as Logger, exit);
    for (let i = 0; i < 100; i++) policy.onUnhandledRejection(redisError('ClientOfflineError'));
    expect(exit).not.toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('exits 1 on any other unhandled rejection, with the error logged', () => {
    const logger = fakeLogger();
    const exit = jest.fn();
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    crashPolicy(logger as unknown as Logger, exit).onUnhandledRejection(bug);
    expect(logger.fatal).toHaveBeenCalledWith({ err: bug }, expect.stringContaining('unhandled'));
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('exits 1 on an uncaught exception, Redis or not', () => {
    const logger = fakeLogger();
    const exit = jest.fn();
    crashPolicy(logger as unknown as Logger, exit).onUncaughtException(
      redisError('ClientClosedError'),
    );
    expect(exit).toHaveBeenCalledWith(1);
  });
});
