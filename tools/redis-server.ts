/**
 * A `redis-server` for the development tools, the bench and the tests: on loopback, keeping
 * nothing on disk, ready once its own PID answers, stopped by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasExited, LOOPBACK, stopProcess, waitUntil } from './processes.js';

const READY_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 3;
/** The tail of its output kept for error messages. */
const OUTPUT_LIMIT = 16_000;

export interface RedisServerOptions {
  /** A fixed port, or how to pick a free one (default: `freePort`). */
  readonly port?: number | (() => Promise<number>);
  /** Arguments after the defaults, such as cluster mode. */
  readonly args?: readonly string[];
  /** Its working folder. Default: a temporary one, which `stop()` removes. */
  readonly dir?: string;
  /** Default: `redis-server` on PATH. */
  readonly command?: string;
  /** Its own process group: a Ctrl-C in a terminal then reaches only the parent. */
  readonly detached?: boolean;
  /** Called with each process spawned (a restart spawns another), before it is ready. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** PID of the current process; a `restart()` gives a new one. */
  readonly pid: number;
  /** Sends `signal` (default SIGKILL), SIGKILL after a grace period; resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and dir (SIGKILLing first if still running). */
  restart(): Promise<void>;
  /** `kill(signal)` (default SIGTERM), then removes the temporary dir. For good. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `redis-server` and resolves once it answers. A port picked here can be taken by
 * someone else before redis-server binds it (parallel Jest workers do this), so a bind
 * failure on a picked port is retried on a fresh one; a fixed port is tried once.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const { port = freePort } = options;
  if (typeof port === 'number') return launch(port, options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await port(), options);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Sends one inline command and resolves with the reply: the status line or the bulk body. */
export function redisCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: LOOPBACK, port });
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

class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

async function launch(port: number, options: RedisServerOptions): Promise<RedisProcess> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `redis-${port}-`)));
  const server = new RedisProcess(port, dir, options);
  try {
    await server.start();
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
  return server;
}

class RedisProcess implements RedisServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private output = '';
  private spawnError: Error | undefined;
  private stopped = false;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {
    this.url = `redis://${LOOPBACK}:${port}`;
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
    if (this.child) await stopProcess(this.child, signal);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`redis-server on ${this.port} was stopped for good`);
    await this.kill();
    await this.start();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopped = true;
    await this.kill(signal);
    if (this.options.dir === undefined) await rm(this.dir, { recursive: true, force: true });
  }

  private spawnChild(): ChildProcess {
    this.output = '';
    this.spawnError = undefined;
    const child = spawn(this.options.command ?? 'redis-server', this.args(), {
      detached: this.options.detached,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => void (this.spawnError = error));
    this.child = child;
    this.options.onSpawn?.(child);
    return child;
  }

  /*
   * PING alone could be answered by whoever else holds the port while our process is still
   * failing to bind it, so the answer is then checked to come from our PID.
   */
  private async waitUntilReady(child: ChildProcess): Promise<void> {
    await waitUntil(
      async () => {
        if (this.spawnError) {
          throw new Error(`could not run redis-server: ${this.spawnError.message}`);
        }
        if (hasExited(child)) {
          const inUse = this.output.includes('Address already in use');
          throw this.failure(`exited (${child.signalCode ?? `code ${child.exitCode}`})`, inUse);
        }
        return (await redisCommand(this.port, 'PING').catch(() => '')) === '+PONG';
      },
      {
        timeoutMs: READY_TIMEOUT_MS,
        failure: `redis-server on port ${this.port} did not answer PING`,
        details: () => this.output,
      },
    );
    const info = await redisCommand(this.port, 'INFO server');
    if (!info.includes(`process_id:${child.pid}\r\n`)) {
      const other = /process_id:\d+/.exec(info)?.[0];
      throw this.failure(`is answered by another process (${other})`, true);
    }
  }

  private args(): string[] {
    return [
      ...['--port', String(this.port), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no'],
      ...['--protected-mode', 'no', '--daemonize', 'no', '--dir', this.dir],
      ...(this.options.args ?? []),
    ];
  }

  private failure(what: string, portInUse = false): Error {
    const message = `redis-server on port ${this.port} ${what}; it said:\n${this.output}`;
    return portInUse ? new PortInUseError(message) : new Error(message);
  }
}

function completeReply(reply: string): string | undefined {
  const headerEnd = reply.indexOf('\r\n');
  if (headerEnd < 0) return undefined;
  if (!reply.startsWith('$')) return reply.slice(0, headerEnd);
  const length = Number(reply.slice(1, headerEnd));
  const body = reply.slice(headerEnd + 2);
  return body.length >= length + 2 ? body.slice(0, length) : undefined;
}
