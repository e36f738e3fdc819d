import { jest } from '@jest/globals';
import type { RedisClient } from '../cluster/redis-connections.js';
import { MemorySessions, RedisSessions, sessionPrefix } from './admin-sessions.js';

describe('MemorySessions', () => {
  it('knows a saved session until it expires', async () => {
    let now = 1_000_000;
    const sessions = new MemorySessions(60, () => now);
    sessions.saveSession('abc');
    await expect(sessions.doesSessionExist('abc')).resolves.toBe(true);
    await expect(sessions.doesSessionExist('other')).resolves.toBe(false);
    now += 60_000;
    await expect(sessions.doesSessionExist('abc')).resolves.toBe(false);
  });

  it('answers false, never throws, for an id that is not a string', async () => {
    const sessions = new MemorySessions(60);
    for (const id of [undefined, null, 42, {}, ['abc'], ''])
      await expect(sessions.doesSessionExist(id)).resolves.toBe(false);
  });
});

describe('sessionPrefix', () => {
  it('changes with the password hash, so a new password signs every session out', () => {
    expect(sessionPrefix('ops', '$2b$10$a')).not.toBe(sessionPrefix('ops', '$2b$10$b'));
    expect(sessionPrefix('ops', '$2b$10$a')).toBe(sessionPrefix('ops', '$2b$10$a'));
  });
});

describe('RedisSessions', () => {
  const down = { sendCommand: () => Promise.reject(new Error('connection lost')) };

  it('answers false and reports the error while Redis is down', async () => {
    const onError = jest.fn();
    const sessions = new RedisSessions(down as unknown as RedisClient, 'p:', 60, onError);
    await expect(sessions.doesSessionExist('abc')).resolves.toBe(false);
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('reports a failed save instead of rejecting', async () => {
    const reported = new Promise((resolve) => {
      new RedisSessions(down as unknown as RedisClient, 'p:', 60, resolve).saveSession('abc');
    });
    await expect(reported).resolves.toBeInstanceOf(Error);
  });

  it('keeps a session with an expiry, under its prefix', async () => {
    const sent: string[][] = [];
    const client = {
      sendCommand: (args: string[]) => {
        sent.push(args);
        return Promise.resolve(args[0] === 'EXISTS' ? 1 : 'OK');
      },
    };
    const sessions = new RedisSessions(client as unknown as RedisClient, 'p:', 60, jest.fn());
    sessions.saveSession('abc');
    await expect(sessions.doesSessionExist('abc')).resolves.toBe(true);
    expect(sent).toEqual([
      ['SET', 'p:abc', '1', 'EX', '60'],
      ['EXISTS', 'p:abc'],
    ]);
  });
});
