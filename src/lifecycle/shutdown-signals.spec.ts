import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { handleShutdownSignals } from './shutdown-signals.js';

const DRAIN_MS = 30_000;
const DEADLINE_MS = 34_000;

describe('handleShutdownSignals', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setUp(close: () => Promise<void>) {
    const signals = new EventEmitter();
    const exits: { code: number; at: number }[] = [];
    const startedAt = Date.now();
    const info = jest.fn();
    const logger = { info, warn: jest.fn(), error: jest.fn() } as unknown as Logger;
    handleShutdownSignals({ close } as unknown as INestApplication, {
      drainMs: DRAIN_MS,
      deadlineMs: DEADLINE_MS,
      logger,
      signals,
      exit: (code) => exits.push({ code, at: Date.now() - startedAt }),
    });
    return { signals, exits, info };
  }

  it('SIGTERM closes the app once and exits 0 when the close ends', async () => {
    let finish!: () => void;
    const close = jest.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const { signals, exits } = setUp(close);
    signals.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(30_000);
    expect(close).toHaveBeenCalledTimes(1);
    expect(exits).toEqual([]);
    finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(exits).toEqual([{ code: 0, at: 30_000 }]);
    // The deadline was cleared: nothing more happens.
    await jest.advanceTimersByTimeAsync(DEADLINE_MS);
    expect(exits).toHaveLength(1);
  });

  it('a close that hangs is cut at the deadline with exit code 1', async () => {
    const { signals, exits } = setUp(() => new Promise<void>(() => undefined));
    signals.emit('SIGINT', 'SIGINT');
    await jest.advanceTimersByTimeAsync(DEADLINE_MS - 1);
    expect(exits).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(exits).toEqual([{ code: 1, at: DEADLINE_MS }]);
  });

  it('a second signal exits at once with 128 + its number', async () => {
    const close = jest.fn(() => new Promise<void>(() => undefined));
    const { signals, exits } = setUp(close);
    signals.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(2000);
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([{ code: 128 + 2, at: 2000 }]);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('says at once how long it drains and that a second Ctrl-C exits at once', () => {
    const { signals, info } = setUp(() => new Promise<void>(() => undefined));
    signals.emit('SIGINT', 'SIGINT');
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith(
      expect.objectContaining({ signal: 'SIGINT', drainMs: DRAIN_MS }),
      expect.stringMatching(
        /draining for up to 30 s.*second signal \(Ctrl-C again\) exits at once/,
      ),
    );
  });

  it('a close that fails exits 1 at once', async () => {
    const { signals, exits } = setUp(() => Promise.reject(new Error('redis quit failed')));
    signals.emit('SIGTERM', 'SIGTERM');
    await jest.advanceTimersByTimeAsync(0);
    expect(exits).toEqual([{ code: 1, at: 0 }]);
  });
});
