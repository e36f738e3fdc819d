import { execFileSync } from 'node:child_process';
import { createClient, createCluster } from 'redis';
import { redisAvailable, startRedis, startRedisCluster, stopAllRedis } from './support/redis.js';
import { isRunning } from './support/spawn-app.js';

const clients: Array<{ destroy(): void }> = [];

function createResp2Client(url: string) {
  return createClient({ url, RESP: 2 });
}

async function connect(url: string): Promise<ReturnType<typeof createResp2Client>> {
  const client = createResp2Client(url);
  clients.push(client);
  // A killed server makes the client emit errors while it tries to reconnect.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function redisChildren(): string[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'redis-server']);
    return out.toString().trim().split('\n');
  } catch {
    return [];
  }
}

describe('redis test support', () => {
  beforeAll(() => {
    if (!redisAvailable()) {
      throw new Error('redis-server and redis-cli must be on PATH (apt-get install redis-server)');
    }
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });

  afterAll(stopAllRedis);

  it('a SIGKILLed server restarts empty on the same port and answers a new client', async () => {
    const server = await startRedis();
    const firstPid = server.pid;
    expect(server.port).not.toBe(6379);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const first = await connect(server.url);
    await first.set('key', 'before');
    expect(await first.ping()).toBe('PONG');

    await server.kill();
    expect(isRunning(firstPid)).toBe(false);
    await server.restart();

    expect(server.pid).not.toBe(firstPid);
    const second = await connect(server.url);
    expect(await second.ping()).toBe('PONG');
    expect(await second.get('key')).toBeNull();
    await server.stop();
    expect(isRunning(server.pid)).toBe(false);
  });

  it('a three-master cluster spreads keys on different slots over every master', async () => {
    const cluster = await startRedisCluster();
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url).toBe(cluster.urls.join(','));
    const client = createCluster({ rootNodes: [{ url: cluster.urls[0] }], RESP: 2 });
    clients.push(client);
    client.on('error', () => undefined);
    await client.connect();

    const keys = ['a', 'b', 'c', 'd'];
    for (const key of keys) await client.set(key, `value-${key}`);
    for (const key of keys) expect(await client.get(key)).toBe(`value-${key}`);
    const perNode = await Promise.all(
      cluster.urls.map(async (url) => (await connect(url)).dbSize()),
    );
    expect(perNode.every((count) => count > 0)).toBe(true);
    expect(perNode.reduce((sum, count) => sum + count, 0)).toBe(keys.length);

    const pids = cluster.nodes.map((node) => node.pid);
    await cluster.stop();
    expect(pids.filter(isRunning)).toEqual([]);
  });

  it('stopAllRedis kills every server still running, leaving no redis-server child', async () => {
    const servers = await Promise.all([startRedis(), startRedis()]);
    const pids = servers.map((server) => server.pid);
    expect(pids.every(isRunning)).toBe(true);

    await stopAllRedis();

    expect(pids.filter(isRunning)).toEqual([]);
    expect(redisChildren()).toEqual([]);
  });
});
