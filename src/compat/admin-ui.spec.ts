import { createServer } from 'node:http';
import { jest } from '@jest/globals';
import { Server } from 'socket.io';
import { withIntervalsCaught } from './admin-ui.js';

describe('withIntervalsCaught, on the installed @socket.io/admin-ui', () => {
  let io: Server | undefined;
  afterEach(async () => {
    jest.useRealTimers();
    await io?.close();
  });

  it('catches the one interval instrument() starts, and clearing it stops the stats', async () => {
    const { instrument } = await import('@socket.io/admin-ui');
    jest.useFakeTimers();
    const fakeSetInterval = globalThis.setInterval;
    io = new Server(createServer());
    const emit = jest.spyOn(io.of('/admin'), 'emit');

    const { intervals } = withIntervalsCaught(() =>
      instrument(io!, { auth: false, mode: 'production' }),
    );
    expect(intervals).toHaveLength(1);
    expect(globalThis.setInterval).toBe(fakeSetInterval);

    emit.mockClear();
    jest.advanceTimersByTime(2000);
    expect(emit).toHaveBeenCalledWith(
      'server_stats',
      expect.objectContaining({ pid: process.pid }),
    );

    intervals.forEach((interval) => clearInterval(interval));
    emit.mockClear();
    jest.advanceTimersByTime(10_000);
    expect(emit).not.toHaveBeenCalled();
  });

  it('puts setInterval back when the call throws', () => {
    const original = globalThis.setInterval;
    expect(() =>
      withIntervalsCaught(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(globalThis.setInterval).toBe(original);
  });
});
