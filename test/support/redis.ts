import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const HOST = '127.0.0.1';
const CLUSTER_BUS_OFFSET = 10_000;
const READY_TIMEOUT_MS = 5_000;
const CLUSTER_OK_TIMEOUT_MS = 10_000;
const CLUSTER_CREATE_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 25;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;
const OUTPUT_LIMIT = 16_000;

const execFileAsync = promisify(execFile);
const started = new Set<ManagedRedis>();

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** PID of the current process; a `restart()` gives a new one. */
  readonly pid: number;
  /** Sends `signal` (default SIGKILL) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and dir (SIGKILLing first if still running). */
  restart(): Promise<void>;
  /** SIGTERM, SIGKILL after a grace period, then removes the temp dir. */
  stop(): Promise<void>;
}

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

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A standalone server on `port`, or on a free port, that keeps nothing on disk. */
export async function startRedis({ port }: { port?: number } = {}): Promise<RedisServer> {
  if (port !== undefined) return launch(port, []);
  return startOnFreePort(freePort, () => []);
}

/** N masters (default 3), no replicas, all slots covered and `cluster_state:ok` on every node. */
export async function startRedisCluster({ masters = 3 } = {}): Promise<RedisCluster> {
  const taken = new Set<number>();
  const results = await Promise.allSettled(
    Array.from({ length: masters }, () =>
      startOnFreePort(
        () => freeClusterPort(taken),
        (port) => [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
          ...['--cluster-node-timeout', '2000'],
        ],
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
  await Promise.all(servers.map((server) => server.dispose()));
}

class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

class ManagedRedis implements RedisServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private output = '';
  private spawnError: Error | undefined;
  private disposed = false;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {
    this.url = `redis://${HOST}:${port}`;
    started.add(this);
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error(`redis-server on ${this.port} never ran`);
    return this.child.pid;
  }

  async start(): Promise<void> {
    const child = this.spawnChild();
    try {
      await this.waitUntilReady(child);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined || hasExited(child)) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async restart(): Promise<void> {
    if (this.disposed) throw new Error(`redis-server on ${this.port} was stopped for good`);
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    const sigkill = setTimeout(() => void this.kill(), STOP_GRACE_MS);
    try {
      await this.kill('SIGTERM');
    } finally {
      clearTimeout(sigkill);
    }
    await this.dispose();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    started.delete(this);
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private spawnChild(): ChildProcess {
    this.output = '';
    this.spawnError = undefined;
    const child = spawn('redis-server', this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => void (this.spawnError = error));
    this.child = child;
    return child;
  }

  /*
   * PING alone could be answered by whoever else holds the port while our
   * process is still failing to bind it, so the answer is then checked to come
   * from our PID.
   */
  private async waitUntilReady(child: ChildProcess): Promise<void> {
    await pollUntil(
      async () => {
        if (this.spawnError) {
          throw new Error(`could not run redis-server: ${this.spawnError.message}`);
        }
        if (hasExited(child)) {
          const inUse = this.output.includes('Address already in use');
          throw this.failure(`exited (${describeExit(child)})`, inUse);
        }
        return (await sendCommand(this.port, 'PING').catch(() => '')) === '+PONG';
      },
      READY_TIMEOUT_MS,
      () => this.failure(`did not answer PING within ${READY_TIMEOUT_MS} ms`),
    );
    const info = await sendCommand(this.port, 'INFO server');
    if (!info.includes(`process_id:${child.pid}\r\n`)) {
      const other = /process_id:\d+/.exec(info)?.[0];
      throw this.failure(`is answered by another process (${other})`, true);
    }
  }

  private args(): string[] {
    return [
      ...['--port', String(this.port), '--bind', HOST, '--save', '', '--appendonly', 'no'],
      ...['--protected-mode', 'no', '--daemonize', 'no', '--dir', this.dir],
      ...this.extraArgs,
    ];
  }

  private failure(what: string, portInUse = false): Error {
    const message = `redis-server on port ${this.port} ${what}; it said:\n${this.output}`;
    return portInUse ? new PortInUseError(message) : new Error(message);
  }
}

async function launch(port: number, extraArgs: readonly string[]): Promise<ManagedRedis> {
  const dir = await mkdtemp(join(tmpdir(), `redis-${port}-`));
  const server = new ManagedRedis(port, dir, extraArgs);
  try {
    await server.start();
  } catch (error) {
    await server.dispose();
    throw error;
  }
  return server;
}

/*
 * A free port can be taken by someone else between `freePort()` closing it and
 * redis-server binding it (parallel Jest workers do this), so a bind failure on
 * a port we picked ourselves is retried on a fresh one.
 */
async function startOnFreePort(
  pickPort: () => Promise<number>,
  extraArgs: (port: number) => string[],
): Promise<ManagedRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return await launch(port, extraArgs(port));
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
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

function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function createCluster(ports: readonly number[]): Promise<void> {
  const nodes = ports.map((port) => `${HOST}:${port}`);
  const args = ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'];
  try {
    await execFileAsync('redis-cli', args, { timeout: CLUSTER_CREATE_TIMEOUT_MS });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`redis-cli ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  let infos: string[] = [];
  await pollUntil(
    async () => {
      infos = await Promise.all(ports.map((port) => sendCommand(port, 'CLUSTER INFO')));
      return infos.every(
        (info) =>
          info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${ports.length}`),
      );
    },
    CLUSTER_OK_TIMEOUT_MS,
    () =>
      new Error(
        `cluster on ${ports.join(', ')} not ok within ${CLUSTER_OK_TIMEOUT_MS} ms:\n` +
          infos.join('\n'),
      ),
  );
}

/*
 * Neither a starting redis-server nor a forming cluster emits an event we can
 * await, so readiness is polled: short waits, bounded by a deadline.
 */
async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= deadline) throw onTimeout();
    await delay(POLL_INTERVAL_MS);
  }
}

/** Sends one inline command and resolves with the reply: the status line or the bulk body. */
function sendCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no reply to ${command}`)));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const complete = completeReply(reply);
      if (complete === undefined) return;
      socket.destroy();
      resolve(complete);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`connection closed before a reply to ${command}`)));
  });
}

function completeReply(reply: string): string | undefined {
  const headerEnd = reply.indexOf('\r\n');
  if (headerEnd < 0) return undefined;
  if (!reply.startsWith('$')) return reply.slice(0, headerEnd);
  const length = Number(reply.slice(1, headerEnd));
  const body = reply.slice(headerEnd + 2);
  return body.length >= length + 2 ? body.slice(0, length) : undefined;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ?? `code ${child.exitCode}`;
}
