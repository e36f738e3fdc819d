import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { Socket } from 'socket.io';
import { TokenExpiry } from './token-expiry.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Like a socket.io socket: `disconnect()` fires `disconnect` on the server side, whose
 * listener (the adapter's, in the app) untracks it.
 */
class FakeSocket extends EventEmitter {
  connected = true;
  readonly disconnect = jest.fn((_close?: boolean) => {
    this.connected = false;
    this.emit('disconnect', 'server namespace disconnect');
    return this;
  });
}

describe('TokenExpiry', () => {
  let expiry: TokenExpiry;
  let onExpired: jest.Mock<(socket: Socket) => void>;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    onExpired = jest.fn();
    expiry = new TokenExpiry(onExpired);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A socket tracked until `expiresAt`, untracked on its `disconnect` as the app does. */
  function tracked(expiresAt: number): FakeSocket {
    const socket = new FakeSocket();
    socket.on('disconnect', () => expiry.untrack(socket as unknown as Socket, expiresAt));
    expiry.track(socket as unknown as Socket, expiresAt);
    return socket;
  }

  it('disconnects the socket exactly at expiry, not before', () => {
    const socket = tracked(Date.now() + 60_000);
    jest.advanceTimersByTime(59_999);
    expect(socket.disconnect).not.toHaveBeenCalled();
    expect(onExpired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
    // This namespace only: not the connection its other namespaces may ride on.
    expect(socket.disconnect).toHaveBeenCalledWith();
    expect(onExpired).toHaveBeenCalledWith(socket);
  });

  it('reports the expiry before it disconnects', () => {
    const socket = tracked(Date.now() + 1_000);
    jest.advanceTimersByTime(1_000);
    expect(onExpired.mock.invocationCallOrder[0]).toBeLessThan(
      socket.disconnect.mock.invocationCallOrder[0],
    );
  });

  it('disconnects at once when the token has already expired', () => {
    const socket = tracked(Date.now() - 1);
    expect(socket.disconnect).toHaveBeenCalledWith();
    expect(onExpired).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('disconnects at once when the token expires this very millisecond', () => {
    const socket = tracked(Date.now());
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
  });

  it('sockets whose tokens expire at the same time share one timer, and all go then', () => {
    const at = Date.now() + 60_000;
    const sockets = Array.from({ length: 1000 }, () => tracked(at));
    const later = tracked(at + 1000);
    expect(jest.getTimerCount()).toBe(2);
    jest.advanceTimersByTime(60_000);
    expect(sockets.every((socket) => socket.disconnect.mock.calls.length === 1)).toBe(true);
    expect(onExpired).toHaveBeenCalledTimes(1000);
    expect(later.disconnect).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1000);
    expect(later.disconnect).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a disconnect before expiry spares that socket only; the last one out clears the timer', () => {
    const at = Date.now() + 60_000;
    const leaving = tracked(at);
    const staying = tracked(at);
    leaving.emit('disconnect', 'client namespace disconnect');
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(60_000);
    expect(leaving.disconnect).not.toHaveBeenCalled();
    expect(staying.disconnect).toHaveBeenCalledTimes(1);
    expect(onExpired).toHaveBeenCalledTimes(1);

    const alone = tracked(Date.now() + 60_000);
    expect(jest.getTimerCount()).toBe(1);
    alone.emit('disconnect', 'transport close');
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(120_000);
    expect(alone.disconnect).not.toHaveBeenCalled();
  });

  it("a sibling namespace's socket on a longer token stays when the first one's expires", () => {
    const chat = tracked(Date.now() + 1000);
    const notifications = tracked(Date.now() + 3_600_000);
    jest.advanceTimersByTime(1000);
    expect(chat.connected).toBe(false);
    expect(notifications.disconnect).not.toHaveBeenCalled();
  });

  it('a socket that went while its bucket expired (its client closed the connection) is not reported expired', () => {
    const at = Date.now() + 1000;
    const chat = tracked(at);
    const notifications = tracked(at);
    chat.on('disconnect', () => {
      if (notifications.connected) notifications.disconnect();
    });
    jest.advanceTimersByTime(1000);
    expect(onExpired.mock.calls.map(([socket]) => socket)).toEqual([chat]);
    expect(notifications.connected).toBe(false);
  });

  it('untracking a socket it never tracked changes nothing', () => {
    const socket = tracked(Date.now() + 60_000);
    expiry.untrack(new FakeSocket() as unknown as Socket, Date.now() + 60_000);
    expiry.untrack(socket as unknown as Socket, Date.now() + 30_000);
    jest.advanceTimersByTime(60_000);
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
  });

  it('an expiry beyond 2^31-1 ms still fires at the right time', () => {
    const thirtyDays = 30 * 24 * 60 * 60 * 1000;
    expect(thirtyDays).toBeGreaterThan(MAX_TIMER_MS);
    const socket = tracked(Date.now() + thirtyDays);
    jest.advanceTimersByTime(thirtyDays - 1);
    expect(socket.disconnect).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(socket.disconnect).toHaveBeenCalledTimes(1);
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  it('a disconnect clears the re-armed timer of a long expiry too', () => {
    const socket = tracked(Date.now() + 3 * MAX_TIMER_MS);
    jest.advanceTimersByTime(MAX_TIMER_MS + 1);
    expect(jest.getTimerCount()).toBe(1);
    socket.emit('disconnect', 'transport close');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not keep the process alive while it waits', () => {
    const setTimeoutSpy = jest.spyOn(globalThis, 'setTimeout');
    tracked(Date.now() + 60_000);
    const timer = setTimeoutSpy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
  });
});
