/**
 * `npm run start:cluster` (`node dist-tools/tools/start-cluster.js`): the compose topology without
 * Docker, one local redis-server, three instances on consecutive ports and nginx with the
 * shipped config, brought up, checked with the smoke check, and brought down cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runSmoke } from '../src/cli/smoke-check.js';
import { available, NGINX } from './support/balancers.js';
import { freePort, redisAvailable } from './support/redis.js';
import { isRunning } from './support/spawn-app.js';

const SCRIPT = fileURLToPath(new URL('../dist-tools/tools/start-cluster.js', import.meta.url));
const SECRET = 'start-cluster-secret-long-enough-for-hs256-0123456789';
const INSTANCES = 3;

/** `count` consecutive free ports (the script puts its instances on consecutive ports). */
async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

let script: ChildProcess | undefined;
let childPids: number[] = [];

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  if (!available(NGINX)) throw new Error('nginx is missing: apt-get install nginx');
});
afterAll(() => {
  // By PID, whatever state the script left: the script, then what it started.
  if (script?.exitCode === null) script.kill('SIGKILL');
  for (const pid of childPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
});

it('brings the topology up, serves a sticky, cluster-wide chat, and takes it all down on a signal', async () => {
  const [port, redisPort, appPort] = [
    await freePort(),
    await freePort(),
    await consecutiveFreePorts(INSTANCES),
  ];
  const child = spawn(
    process.execPath,
    [
      SCRIPT,
      '--port',
      String(port),
      '--app-port',
      String(appPort),
      '--redis-port',
      String(redisPort),
    ],
    {
      env: { PATH: process.env.PATH ?? '', JWT_SECRET: SECRET, SHUTDOWN_DRAIN_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  script = child;
  let out = '';
  const collect = (chunk: Buffer): void => {
    out += chunk.toString();
    childPids = [...out.matchAll(/\[cluster\] \S+ started \(pid (\d+)\)/g)].map((m) =>
      Number(m[1]),
    );
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = once(child, 'exit');

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 30 s:\n${out}`)), 30_000);
    const onData = (): void => {
      const match = /\[cluster\] ready: (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${out}`));
    });
  });
  expect(url).toBe(`http://127.0.0.1:${port}`);
  // redis, three instances, nginx.
  expect(childPids).toHaveLength(INSTANCES + 2);
  // Its secret came from the environment: no tokens minted unasked.
  expect(out).toMatch(/JWT_SECRET from the environment/);
  expect(out).not.toMatch(/token for alice/);

  const report = await runSmoke({
    url,
    direct: Array.from({ length: INSTANCES }, (_, i) => `http://127.0.0.1:${appPort + i}`),
    clients: 12,
    sources: 8,
    secret: SECRET,
  });
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);

  // SIGHUP (a closed terminal) takes the same ordered way down as SIGINT and SIGTERM.
  child.kill('SIGHUP');
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
  // Instances drained and exited 0, then nginx, then Redis; nothing left behind.
  const stopped = [...out.matchAll(/\[cluster\] (\S+) stopped \((exit \d+|killed)\)/g)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
  expect(stopped.slice(0, INSTANCES).sort()).toEqual(
    Array.from({ length: INSTANCES }, (_, i) => `app-${i + 1} exit 0`),
  );
  expect(stopped.slice(INSTANCES)).toEqual(['nginx exit 0', 'redis exit 0']);
  expect(childPids.filter(isRunning)).toEqual([]);
  for (const p of [port, redisPort, appPort, appPort + 1, appPort + 2])
    expect(await portIsFree(p)).toBe(true);
});
