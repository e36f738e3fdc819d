import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, isPortFree, LOOPBACK, waitUntil } from '../../tools/processes.js';
import { redisCommand, type RedisServer, startRedisServer } from '../../tools/redis-server.js';

export { freePort, type RedisServer };

const CLUSTER_BUS_OFFSET = 10_000;
const CLUSTER_OK_TIMEOUT_MS = 10_000;
const CLUSTER_CREATE_TIMEOUT_MS = 15_000;

const execFileAsync = promisify(execFile);
const started = new Set<RedisServer>();

export interface RedisCluster {
  readonly nodes: RedisServer[];
  readonly urls: string[];
  /** The urls joined with commas. */
  readonly url: string;
  stop(): Promise<void>;
}

/** True when `redis-server` and `redis-cli` (for clusters) are on PATH. */
export function redisAvailable(): boolean {
  return ['redis-server', 'redis-cli'].every(
    (binary) => spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0,
  );
}

/** A standalone server on `port`, or on a free port, that keeps nothing on disk. */
export async function startRedis({ port }: { port?: number } = {}): Promise<RedisServer> {
  return tracked(await startRedisServer({ port }));
}

/** N masters (default 3), no replicas, all slots covered and `cluster_state:ok` on every node. */
export async function startRedisCluster({ masters = 3 } = {}): Promise<RedisCluster> {
  const taken = new Set<number>();
  const results = await Promise.allSettled(
    Array.from({ length: masters }, async () =>
      tracked(
        await startRedisServer({
          port: () => freeClusterPort(taken),
          // Each node has a dir of its own, so one file name serves them all.
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
        }),
      ),
    ),
  );
  const nodes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    await createCluster(nodes.map((node) => node.port));
    await waitForClusterOk(nodes.map((node) => node.port));
  } catch (error) {
    await stop();
    throw error;
  }
  const urls = nodes.map((node) => node.url);
  return { nodes, urls, url: urls.join(','), stop };
}

/** Kills, by PID, every server these helpers started that still runs, and removes its dir. */
export async function stopAllRedis(): Promise<void> {
  const servers = [...started];
  started.clear();
  await Promise.all(servers.map((server) => server.stop('SIGKILL')));
}

function tracked(server: RedisServer): RedisServer {
  started.add(server);
  return server;
}

/** A free port P whose cluster bus port P + 10000 is free too, and not already in `taken`. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    const bus = port + CLUSTER_BUS_OFFSET;
    if (bus > 65_535 || taken.has(port) || taken.has(bus) || !(await isPortFree(bus))) continue;
    taken.add(port).add(bus);
    return port;
  }
  throw new Error(`found no free port P with P + ${CLUSTER_BUS_OFFSET} free too`);
}

async function createCluster(ports: readonly number[]): Promise<void> {
  const nodes = ports.map((port) => `${LOOPBACK}:${port}`);
  const args = ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'];
  try {
    await execFileAsync('redis-cli', args, { timeout: CLUSTER_CREATE_TIMEOUT_MS });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`redis-cli ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

// A forming cluster emits nothing to await: every node is asked until all say ok.
async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  let infos: string[] = [];
  await waitUntil(
    async () => {
      infos = await Promise.all(ports.map((port) => redisCommand(port, 'CLUSTER INFO')));
      return infos.every(
        (info) =>
          info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${ports.length}`),
      );
    },
    {
      timeoutMs: CLUSTER_OK_TIMEOUT_MS,
      failure: `cluster on ${ports.join(', ')} not ok`,
      details: () => infos.join('\n'),
    },
  );
}
