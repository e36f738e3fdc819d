import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../src/auth/token-minter.js';
import { renderHaproxyConfig, renderNginxConfig } from './balancer-config.js';
import { parseCliArgs } from '../src/cli/cli-args.js';
import { hasExited, killOnExit, LOOPBACK, stopProcess, waitUntil } from './processes.js';
import { startRedisServer } from './redis-server.js';

/**
 * `npm run start:cluster`: the compose topology without Docker, on one machine. One local
 * `redis-server`, N instances of `node dist/main.js` on consecutive ports sharing one
 * `JWT_SECRET` and Redis, and nginx (or HAProxy) running the very config file shipped in
 * `docker/`, with only its listen port and upstream addresses replaced.
 *
 *   npm run start:cluster -- [--port 8080] [--app-port 3001] [--instances 3]
 *                            [--redis-port 6390] [--balancer nginx|haproxy]
 *
 * Prints two tokens for the demo page (when it generated the secret), then `ready: <url>`
 * once the balancer answers `/health/ready` with 200. Ctrl-C (SIGINT), SIGTERM or SIGHUP: the
 * instances drain (SHUTDOWN_DRAIN_MS, 3 s unless set), then the balancer and Redis stop;
 * exit 0. A second signal kills everything. If any process dies on its own, the rest are
 * stopped and the exit code is 1. A SIGKILL of this script leaves its children running (their
 * PIDs are printed at start).
 */

// Run from dist-tools/tools/.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/main.js');
const READY_TIMEOUT_MS = 20_000;
/** The instances' drain window: 3 s here unless set. */
const DRAIN_MS = process.env.SHUTDOWN_DRAIN_MS ?? '3000';
/** How long a child gets to stop before SIGKILL: an instance's drain plus time to close. */
const STOP_TIMEOUT_MS = (Number(DRAIN_MS) || 0) + 10_000;

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** How this child is asked to stop gracefully. */
  readonly stopSignal: NodeJS.Signals;
}

const children: Child[] = [];
let stopping = false;

function binary(name: string, packageName: string): string {
  for (const candidate of [name, `/usr/sbin/${name}`, `/usr/local/sbin/${name}`]) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error(
    `${name} is not installed: apt-get install ${packageName} (or brew install ${packageName})`,
  );
}

function log(line: string): void {
  process.stdout.write(`[cluster] ${line}\n`);
}

function start(
  name: string,
  command: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    stopSignal: NodeJS.Signals;
    /** A file descriptor for its stdout instead of this script's output. */
    stdout?: number;
  },
): Child {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    // Own process group: a Ctrl-C reaches this script only, which stops the rest in order.
    detached: true,
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
  });
  return watch(name, child, options.stopSignal);
}

/** Prints a child's output under its name; should it exit on its own, stops the rest. */
function watch(name: string, child: ChildProcess, stopSignal: NodeJS.Signals): Child {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  // Last resort if this script dies some other way: no orphans left running.
  killOnExit(child);
  const entry: Child = { name, process: child, stopSignal };
  children.push(entry);
  void once(child, 'exit').then(([code]) => {
    if (stopping) return;
    log(`${name} exited on its own (code ${String(code)}): stopping the rest`);
    void stopAll(1);
  });
  log(`${name} started (pid ${child.pid})`);
  return entry;
}

/** Polls `url` until it answers 200: a starting process emits nothing to await. */
function answers200(what: string, url: string): Promise<void> {
  return waitUntil(
    async () => {
      if (stopping) throw new Error(`stopped while waiting for ${what}`);
      return fetch(url).then(
        (res) => res.status === 200,
        () => false,
      );
    },
    { timeoutMs: READY_TIMEOUT_MS, failure: `${what} not ready`, intervalMs: 100 },
  );
}

/** Stops the instances first (they drain), then the balancer, then Redis. */
async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  const stopGroup = async (group: Child[]): Promise<void> => {
    await Promise.all(
      group.map(async ({ name, process: child, stopSignal }) => {
        if (hasExited(child)) return;
        const exitCode = await stopProcess(child, stopSignal, STOP_TIMEOUT_MS);
        log(`${name} stopped (${exitCode === null ? 'killed' : `exit ${exitCode}`})`);
        if (name.startsWith('app-') && exitCode !== 0) code = 1;
      }),
    );
  };
  await stopGroup(children.filter((c) => c.name.startsWith('app-')));
  await stopGroup(children.filter((c) => !c.name.startsWith('app-') && c.name !== 'redis'));
  await stopGroup(children.filter((c) => c.name === 'redis'));
  await cleanup?.();
  log(`stopped (exit ${code})`);
  process.exit(code);
}

let cleanup: (() => Promise<void>) | undefined;

const USAGE = `
Usage: npm run start:cluster -- [--port 8080] [--app-port 3001] [--instances 3]
                                [--redis-port 6390] [--balancer nginx|haproxy]

The compose topology on this machine, without Docker: a local redis-server,
N instances of node dist/main.js on consecutive ports sharing one JWT_SECRET
(yours, from the environment or .env, else generated) and Redis, and nginx
(or HAProxy) in front with the shipped config. Prints "ready: <url>".
Ctrl-C drains the instances (SHUTDOWN_DRAIN_MS, 3 s unless set), then stops
the balancer and Redis; a second Ctrl-C kills everything.

  --port         the balancer's port (default: 8080)
  --app-port     the first instance's port (default: 3001)
  --instances    how many instances, 1-32 (default: 3)
  --redis-port   Redis's port (default: 6390)
  --balancer     nginx or haproxy (default: nginx)
  --help         this text
`;

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: {
      port: { type: 'string', default: '8080' },
      'app-port': { type: 'string', default: '3001' },
      instances: { type: 'string', default: '3' },
      'redis-port': { type: 'string', default: '6390' },
      balancer: { type: 'string', default: 'nginx' },
    },
  });
  const port = portNumber(values.port, '--port');
  const appPort = portNumber(values['app-port'], '--app-port');
  const redisPort = portNumber(values['redis-port'], '--redis-port');
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 32)
    throw new Error('--instances must be between 1 and 32');
  if (values.balancer !== 'nginx' && values.balancer !== 'haproxy')
    throw new Error('--balancer must be nginx or haproxy');
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const redisServer = binary('redis-server', 'redis-server');
  const balancerBinary =
    values.balancer === 'nginx' ? binary('nginx', 'nginx') : binary('haproxy', 'haproxy');

  const dir = await mkdtemp(join(tmpdir(), 'realtime-cluster-'));
  cleanup = () => rm(dir, { recursive: true, force: true });
  // SIGHUP too: a closed terminal stops the cluster in order instead of orphaning it (the
  // children run in their own process groups and would not get the hangup).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) {
        // killOnExit SIGKILLs every child as this script exits.
        log(`second ${signal}: killing everything`);
        process.exit(128 + constants.signals[signal]);
      }
      log(`${signal}: stopping (instances drain first)`);
      void stopAll(0);
    });
  }
  const redis = await startRedisServer({
    port: redisPort,
    command: redisServer,
    // It saves nothing; its folder is this run's, removed at the end.
    dir,
    detached: true,
    onSpawn: (child) => void watch('redis', child, 'SIGTERM'),
  });

  const secret = process.env.JWT_SECRET ?? randomBytes(32).toString('base64url');
  const appUrls: string[] = [];
  for (let i = 0; i < instances; i++) {
    const url = `http://${LOOPBACK}:${appPort + i}`;
    start(`app-${i + 1}`, process.execPath, [MAIN], {
      env: {
        ...process.env,
        HOST: LOOPBACK,
        PORT: String(appPort + i),
        REDIS_URL: redis.url,
        JWT_SECRET: secret,
        SHUTDOWN_DRAIN_MS: DRAIN_MS,
        CORS_ORIGINS:
          process.env.CORS_ORIGINS ?? `http://${LOOPBACK}:${port},http://localhost:${port}`,
      },
      stopSignal: 'SIGTERM',
    });
    appUrls.push(url);
  }
  await Promise.all(
    appUrls.map((url, i) => answers200(`app-${i + 1} at ${url}`, `${url}/health/ready`)),
  );

  const targets = {
    listen: `${LOOPBACK}:${port}`,
    upstreams: appUrls.map((url) => new URL(url).host),
  };
  if (values.balancer === 'nginx') {
    const file = join(dir, 'nginx.conf');
    const template = await readFile(join(ROOT, 'docker/nginx.conf'), 'utf8');
    await writeFile(file, renderNginxConfig(template, targets));
    start(
      'nginx',
      balancerBinary,
      [
        '-p',
        dir,
        '-e',
        'stderr',
        '-c',
        file,
        '-g',
        `daemon off; master_process off; pid ${join(dir, 'nginx.pid')};`,
      ],
      // SIGQUIT: graceful stop. The access log (`/dev/stdout` in the shipped file, which
      // nginx cannot open on a socket) goes to a file.
      { stopSignal: 'SIGQUIT', stdout: openSync(join(dir, 'nginx-access.log'), 'a') },
    );
    log(`nginx access log: ${join(dir, 'nginx-access.log')}`);
  } else {
    const file = join(dir, 'haproxy.cfg');
    const template = await readFile(join(ROOT, 'docker/haproxy.cfg'), 'utf8');
    await writeFile(file, renderHaproxyConfig(template, targets));
    // -db: foreground; SIGUSR1: soft stop (finish the open connections).
    start('haproxy', balancerBinary, ['-db', '-f', file], { stopSignal: 'SIGUSR1' });
  }
  const url = `http://${LOOPBACK}:${port}`;
  await answers200(`${values.balancer} at ${url}`, `${url}/health/ready`);

  log(
    `${instances} instances on ports ${appPort}-${appPort + instances - 1}, Redis on ${redisPort}`,
  );
  if (process.env.JWT_SECRET) {
    // Perhaps a real secret: mint nothing unasked.
    log('JWT_SECRET from the environment: mint tokens with npm run token -- --sub alice');
  } else {
    log('JWT_SECRET generated for this run; tokens for the demo page (valid 24 h):');
    for (const sub of ['alice', 'bob']) {
      const name = sub[0].toUpperCase() + sub.slice(1);
      log(`token for ${sub}: ${await mintToken({ secret, sub, name, ttlS: 86_400 })}`);
    }
  }
  log(`ready: ${url}`);
}

function portNumber(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65_535)
    throw new Error(`${name} must be a port number`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`[cluster] ${error instanceof Error ? error.message : String(error)}\n`);
  void stopAll(1);
});
