/**
 * The load-balancer configs shipped in `docker/`, run for real (Debian's nginx and HAProxy)
 * with only their listen port and upstream addresses replaced, in front of three
 * `node dist/main.js` instances joined through Redis. Stock clients with default transports
 * (long-polling first, then the upgrade) spread over 16 source addresses must all connect
 * and talk; the same config without its stickiness must fail the same check, which proves
 * the check can see "Session ID unknown".
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { renderHaproxyConfig, renderNginxConfig } from '../tools/balancer-config.js';
import { mintToken } from '../src/auth/token-minter.js';
import { runSmoke, type SmokeOptions, type SmokeReport } from '../src/cli/smoke-check.js';
import {
  available,
  HAPROXY,
  killAllBalancers,
  NGINX,
  startHaproxy,
  startNginx,
  type Balancer,
} from './support/balancers.js';
import { redisAvailable, startRedis, stopAllRedis } from './support/redis.js';
import { killAllSpawned, spawnApp, type SpawnedApp } from './support/spawn-app.js';

const SECRET = 'load-balancers-secret-long-enough-for-hs256-0123456789';
const CLIENTS = 30;
const SOURCES = 16;

const shipped = (name: string): string =>
  readFileSync(new URL(`../docker/${name}`, import.meta.url), 'utf8');

/** The shipped file with some lines taken out (the negative controls). */
function without(text: string, ...patterns: RegExp[]): string {
  const kept = text.split('\n').filter((line) => !patterns.some((p) => p.test(line)));
  expect(kept.length).toBe(text.split('\n').length - patterns.length);
  return kept.join('\n');
}

/** How many `/chat` connections each instance has opened so far. */
async function opened(app: SpawnedApp): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const match = /^ws_connections_opened_total\{namespace="\/chat"\} (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

let apps: SpawnedApp[] = [];
let balancer: Balancer | undefined;

beforeAll(async () => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  for (const command of [NGINX, HAPROXY])
    if (!available(command))
      throw new Error(`${command} is missing: apt-get install nginx haproxy`);
  const redis = await startRedis();
  apps = await Promise.all(
    [1, 2, 3].map(() => spawnApp({ JWT_SECRET: SECRET, REDIS_URL: redis.url })),
  );
});
afterEach(async () => {
  await balancer?.stop();
  balancer = undefined;
});
afterAll(async () => {
  killAllBalancers();
  killAllSpawned();
  await stopAllRedis();
});

const upstreams = (): string[] => apps.map((app) => new URL(app.url).host);

async function smokeThrough(
  start: (config: (port: number) => string) => Promise<Balancer>,
  config: (port: number) => string,
  options: Partial<SmokeOptions> = {},
): Promise<{ report: SmokeReport; perInstance: number[] }> {
  balancer = await start(config);
  const before = await Promise.all(apps.map(opened));
  const report = await runSmoke({
    url: balancer.url,
    // One client straight on each instance too: messages must cross through Redis.
    direct: apps.map((app) => app.url),
    clients: CLIENTS,
    sources: SOURCES,
    secret: SECRET,
    timeoutMs: 10_000,
    ...options,
  });
  const after = await Promise.all(apps.map(opened));
  return { report, perInstance: after.map((n, i) => n - before[i] - 1) };
}

describe('docker/nginx.conf', () => {
  const nginx = (text: string) => (port: number) =>
    renderNginxConfig(text, { listen: `127.0.0.1:${port}`, upstreams: upstreams() });

  it('passes `nginx -t` (with resolvable upstreams) and keeps every session on its instance', async () => {
    const { report, perInstance } = await smokeThrough(startNginx, nginx(shipped('nginx.conf')));
    expect(report.problems).toEqual([]);
    expect(report.connectErrors).toEqual([]);
    expect(report).toMatchObject({ ok: true, connected: CLIENTS + 3, duplicates: 0 });
    expect(report.messagesReceived).toBe(report.messagesExpected);
    // The hash spread the balanced clients over all three instances.
    expect(perInstance.every((n) => n > 0)).toBe(true);
    expect(perInstance.reduce((a, b) => a + b, 0)).toBe(CLIENTS);
    // A page served through nginx on its own port may open a socket: the Host the app sees
    // keeps the port, so it matches the page's Origin (and a foreign Origin still gets 403).
    const token = await mintToken({ secret: SECRET, sub: 'page' });
    const handshake = (origin: string) =>
      fetch(`${balancer!.url}/socket.io/?EIO=4&transport=polling`, {
        headers: { Origin: origin, Authorization: `Bearer ${token}` },
      }).then((res) => res.status);
    expect(await handshake(balancer!.url)).toBe(200);
    expect(await handshake('http://evil.example')).toBe(403);
  });

  it('without its `hash` line (round robin) the same clients fail with "Session ID unknown"', async () => {
    const config = without(shipped('nginx.conf'), /^\s*hash \$remote_addr consistent;/);
    const { report } = await smokeThrough(startNginx, nginx(config));
    expect(report.ok).toBe(false);
    expect(report.connectErrors.some((error) => error.includes('Session ID unknown'))).toBe(true);
  });
});

describe('without session affinity (a PaaS proxy)', () => {
  it('WebSocket-only clients work through a round-robin balancer: one connection, one instance', async () => {
    const config = without(shipped('nginx.conf'), /^\s*hash \$remote_addr consistent;/);
    const { report, perInstance } = await smokeThrough(
      startNginx,
      (port) => renderNginxConfig(config, { listen: `127.0.0.1:${port}`, upstreams: upstreams() }),
      // One source address: only round robin spreads them.
      { transports: ['websocket'], sources: 0 },
    );
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(perInstance.every((n) => n > 0)).toBe(true);
  });
});

describe('docker/haproxy.cfg', () => {
  const haproxy = (text: string) => (port: number) =>
    renderHaproxyConfig(text, { listen: `127.0.0.1:${port}`, upstreams: upstreams() });

  it('passes `haproxy -c` as shipped (Docker service names unresolved here)', () => {
    const result = spawnSync(HAPROXY, ['-c', '-f', 'docker/haproxy.cfg'], { encoding: 'utf8' });
    expect(result.stderr).not.toMatch(/ALERT/);
    expect(result.status).toBe(0);
  });

  it('keeps every session on its instance', async () => {
    const { report, perInstance } = await smokeThrough(
      startHaproxy,
      haproxy(shipped('haproxy.cfg')),
    );
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, connected: CLIENTS + 3, duplicates: 0 });
    expect(perInstance.every((n) => n > 0)).toBe(true);
  });

  it('the cookie alone keeps sessions sticky (round robin, clients with a cookie jar)', async () => {
    const config = shipped('haproxy.cfg')
      .replace(/^(\s*)balance source$/m, '$1balance roundrobin')
      .replace(/^\s*hash-type consistent\n/m, '');
    expect(config).toContain('balance roundrobin');
    const { report, perInstance } = await smokeThrough(startHaproxy, haproxy(config));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(perInstance.every((n) => n > 0)).toBe(true);
  });

  it('the source hash alone keeps sessions sticky (no cookie line, clients without a cookie jar)', async () => {
    const config = without(shipped('haproxy.cfg'), /^\s*cookie io_lb /);
    const { report, perInstance } = await smokeThrough(startHaproxy, haproxy(config), {
      cookies: false,
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(perInstance.every((n) => n > 0)).toBe(true);
  });

  it('without stickiness (round robin, no cookie) the same clients fail with "Session ID unknown"', async () => {
    const config = without(
      shipped('haproxy.cfg'),
      /^\s*balance source$/,
      /^\s*hash-type consistent$/,
      /^\s*cookie io_lb /,
    );
    const { report } = await smokeThrough(startHaproxy, haproxy(config));
    expect(report.ok).toBe(false);
    expect(report.connectErrors.some((error) => error.includes('Session ID unknown'))).toBe(true);
  });
});
