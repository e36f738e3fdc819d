/**
 * A Redis subscriber connection that is dropped loses, silently, what is published until it
 * is back. These tests drop the real app's subscribers on a real redis-server, the way Redis
 * does it to a subscriber that falls behind, and check that `/metrics` and the log say so.
 */
import { jest } from '@jest/globals';
import { createClient } from 'redis';
import { eventually } from './support/eventually.js';
import { redisCommand } from '../tools/redis-server.js';
import { type RedisServer, startRedis, stopAllRedis } from './support/redis.js';
import { killAllSpawned, type SpawnedApp, spawnApp } from './support/spawn-app.js';

jest.setTimeout(60_000);

const SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

let redis: RedisServer;
let app: SpawnedApp;

beforeEach(async () => {
  redis = await startRedis();
  app = await spawnApp({ JWT_SECRET: SECRET, REDIS_URL: redis.url, REDIS_ADAPTER: 'pubsub' });
});

afterEach(async () => {
  if (app) process.kill(app.pid, 'SIGCONT');
  await app?.stop('SIGKILL');
  killAllSpawned();
  await stopAllRedis();
});

async function metric(name: string, client: string): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{client="${client}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

const LOSSES = 'redis_connection_losses_total';
const lostLines = (): string[] =>
  app
    .output()
    .split('\n')
    .filter((line) => line.includes('redis subscriber connection lost'));

it('reads each subscriber’s output buffer from Redis, and counts no loss while nothing is lost', async () => {
  for (const client of ['pubsub-subscriber', 'history-feed', 'typing-feed']) {
    // The gauge has a series for each subscriber once a check has run (every 5 s).
    await eventually(
      async () => (await fetch(`${app.url}/metrics`)).text(),
      (text) => text.includes(`redis_subscriber_output_buffer_bytes{client="${client}"} 0`),
      15_000,
    );
    expect(await metric(LOSSES, client)).toBe(0);
  }
  expect(lostLines()).toEqual([]);
});

it('a subscriber that Redis kills is counted and logged at warn, once per loss', async () => {
  expect(await metric(LOSSES, 'pubsub-subscriber')).toBe(0);
  await redisCommand(redis.port, 'CLIENT KILL TYPE pubsub');
  for (const client of ['pubsub-subscriber', 'history-feed', 'typing-feed'])
    await eventually(
      () => metric(LOSSES, client),
      (n) => n === 1,
      10_000,
    );
  // The command connection was not touched.
  expect(await metric(LOSSES, 'command')).toBe(0);
  const lines = lostLines().map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.map((line) => line.client).sort()).toEqual([
    'history-feed',
    'pubsub-subscriber',
    'typing-feed',
  ]);
  for (const line of lines) expect(line).toMatchObject({ level: 40, subscriber: true });
});

it('a subscriber that falls behind past client-output-buffer-limit is dropped by Redis, and that shows', async () => {
  // A low limit, so a few MB are enough to go past it.
  await redisCommand(redis.port, 'CONFIG SET client-output-buffer-limit "pubsub 1mb 256kb 1"');
  const publisher = createClient({ url: redis.url, RESP: 2 });
  publisher.on('error', () => undefined);
  await publisher.connect();
  try {
    // Stopped, the app reads nothing: what Redis sends its typing subscriber piles up.
    process.kill(app.pid, 'SIGSTOP');
    const padding = 'x'.repeat(8 * 1024);
    const signal = JSON.stringify({ room: 'nobody', sender: 'none', typing: true, padding });
    await Promise.all(Array.from({ length: 1000 }, () => publisher.publish('chat:typing', signal)));
    process.kill(app.pid, 'SIGCONT');
  } finally {
    await publisher.close();
  }
  await eventually(
    () => metric(LOSSES, 'typing-feed'),
    (n) => n === 1,
    15_000,
  );
  // Only the one that fell behind was dropped.
  expect(await metric(LOSSES, 'history-feed')).toBe(0);
  expect(await metric(LOSSES, 'pubsub-subscriber')).toBe(0);
  expect(lostLines()).toHaveLength(1);
});
