import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { Socket } from 'socket.io';
import { armTokenExpiry } from './token-expiry.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Like a socket.io socket: `disconnect(true)` fires `disconnect` on the server side. */
class FakeSocket extends EventEmitter {
  readonly disconnect = jest.fn((_close?: boolean) => {
    this.emit('disconnect', 'server namespace disconnect');
    return this;
  });
}

describe('armTokenExpiry', () => {
  let socket: FakeSocket;
  let onExpired: jest.Mock<() => void>;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    socket = new FakeSocket();
    onExpired = jest.fn();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  function arm(expiresAt: number): void {
    armTokenExpiry(socket as unknown as Socket, expiresAt, onExpired);
  }

  it('disconnects the socket exactly at expiry, not before', () => {
    arm(Date.now() + 60_000);
    jest.advanceTimersByTime(59_999);
    expect(socket.disconnect).not.toHaveBeenCalled();
    expect(onExpired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
    expect(socket.disconnect).toHaveBeenCalledWith(true);
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  it('reports the expiry before it disconnects', () => {
    arm(Date.now() + 1_000);
    jest.advanceTimersByTime(1_000);
    expect(onExpired.mock.invocationCallOrder[0]).toBeLessThan(
      socket.disconnect.mock.invocationCallOrder[0],
    );
  });

  it('disconnects at once when the token has already expired', () => {
    arm(Date.now() - 1);
    expect(socket.disconnect).toHaveBeenCalledWith(true);
    expect(onExpired).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('disconnects at once when the token expires this very millisecond', () => {
    arm(Date.now());
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
  });

  it('a disconnect before expiry clears the timer', () => {
    arm(Date.now() + 60_000);
    expect(jest.getTimerCount()).toBe(1);
    socket.emit('disconnect', 'client namespace disconnect');
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(120_000);
    expect(socket.disconnect).not.toHaveBeenCalled();
    expect(onExpired).not.toHaveBeenCalled();
  });

  it('an expiry beyond 2^31-1 ms still fires at the right time', () => {
    const thirtyDays = 30 * 24 * 60 * 60 * 1000;
    expect(thirtyDays).toBeGreaterThan(MAX_TIMER_MS);
    arm(Date.now() + thirtyDays);
    jest.advanceTimersByTime(thirtyDays - 1);
    expect(socket.disconnect).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  it('a disconnect clears the re-armed timer of a long expiry too', () => {
    arm(Date.now() + 3 * MAX_TIMER_MS);
    jest.advanceTimersByTime(MAX_TIMER_MS + 1);
    expect(jest.getTimerCount()).toBe(1);
    socket.emit('disconnect', 'transport close');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not keep the process alive while it waits', () => {
    const setTimeoutSpy = jest.spyOn(globalThis, 'setTimeout');
    arm(Date.now() + 60_000);
    const timer = setTimeoutSpy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
  });
});
