import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient, createCluster } from 'redis';
import type { RedisConfig } from '../config/app-config.js';
import { RedisConnectionWatch } from './redis-connection-watch.js';
import { RedisErrorLog } from './redis-error-log.js';
import { hideCredentials } from '../common/credentials.js';

/**
 * Why these settings:
 * - RESP2: the Socket.IO Redis adapters read replies in RESP2 shapes (the streams adapter's
 *   XREAD/XRANGE parsing breaks on RESP3 maps) and are tested upstream that way;
 * - no offline queue: while Redis is down every command fails at once instead of waiting.
 *   The sharded and streams adapters await their publish before delivering to local sockets,
 *   so a queue would hold every local message for the whole command timeout; this way local
 *   delivery goes on at full speed, and what could not cross instances is dropped and logged
 *   (rate-limited), never queued without bound;
 * - a 5 s command timeout for a Redis that is up but stalled; readiness pings use 1 s;
 * - a 1 MiB socket write buffer: node-redis writes its queue until the socket's high-water
 *   mark (16 KB by default) and waits for `drain`, one event-loop turn later. A busy instance
 *   then sends ~16 KB per turn, its publishes wait, and after 5 s node-redis drops them:
 *   silently lost cross-instance messages (docs/scaling.md, "Messages lost under load").
 */
const COMMAND_TIMEOUT_MS = 5000;
const WRITE_HIGH_WATER_MARK = 1024 * 1024;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Reconnects with capped exponential backoff and jitter, forever once the app has started;
 * before that, a Redis that refuses three times in a row stops the start at once.
 */
function reconnectStrategy(started: { value: boolean }) {
  return (retries: number, cause: Error): number | Error =>
    !started.value && retries >= 3
      ? cause
      : Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);
}

function options(started: { value: boolean }) {
  return {
    RESP: 2 as const,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: reconnectStrategy(started),
      writableHighWaterMark: WRITE_HIGH_WATER_MARK,
    },
  };
}

const standalone = (url: string, started: { value: boolean }) =>
  createClient({ url, ...options(started) });
const cluster = (urls: readonly string[], started: { value: boolean }) => {
  const { commandOptions, socket } = options(started);
  return createCluster({
    rootNodes: urls.map((url) => ({ url })),
    RESP: 2,
    commandOptions,
    defaults: { disableOfflineQueue: true, socket },
  });
};

export type StandaloneClient = ReturnType<typeof standalone>;
export type ClusterClient = ReturnType<typeof cluster>;
export type RedisClient = StandaloneClient | ClusterClient;

/**
 * Every Redis connection of the app, created at bootstrap and connected before the app
 * listens, closed by the Socket.IO adapter's `dispose()` after the servers closed. Each
 * client has an `error` listener: without one an outage crashes the process.
 */
export class RedisConnections {
  readonly errors: RedisErrorLog;
  readonly watch: RedisConnectionWatch;
  private readonly clients: RedisClient[] = [];
  private readonly beforeClose: (() => Promise<void>)[] = [];
  /** Names of the connections that subscribe: losing one loses messages, not commands. */
  private readonly subscribers = new Set<string>();
  private closed = false;

  private constructor(
    readonly config: RedisConfig,
    private readonly logger: Logger,
    /** Commands, publishes, presence; the adapters' "pub" client. */
    readonly command: RedisClient,
  ) {
    this.errors = new RedisErrorLog(logger);
    // Names this instance's connections in CLIENT LIST, so it can find its own subscribers.
    const tag = `rt-${randomBytes(4).toString('hex')}`;
    this.watch = new RedisConnectionWatch(logger, tag, () =>
      isCluster(command)
        ? Promise.resolve('')
        : command.sendCommand<string>(['CLIENT', 'LIST', 'TYPE', 'pubsub']),
    );
    this.track('command', command);
  }

  /** Connects, or fails within a few seconds with a message that names REDIS_URL. */
  static async connect(config: RedisConfig, logger: Logger): Promise<RedisConnections> {
    const started = { value: false };
    const client = config.cluster
      ? cluster(config.urls, started)
      : standalone(config.urls[0], started);
    const connections = new RedisConnections(config, logger, client);
    await connections.open(client, 'command');
    started.value = true;
    connections.watch.start();
    logger.info(
      { redis: config.urls.map(hideCredentials), cluster: config.cluster },
      'redis connected',
    );
    return connections;
  }

  get shown(): string {
    return this.config.urls.map(hideCredentials).join(',');
  }

  /**
   * A second connection, for subscriptions (a subscribed connection cannot send commands)
   * or blocking reads. `subscriber` says it will subscribe: its loss is logged as lost
   * messages.
   */
  async duplicate(name: string, { subscriber = false } = {}): Promise<RedisClient> {
    if (subscriber) this.subscribers.add(name);
    // CLIENT SETNAME on every (re)connect; a cluster's nodes are not watched (one list each).
    const client = isCluster(this.command)
      ? this.command.duplicate()
      : this.command.duplicate({ name: `${this.watch.tag}:${name}` });
    this.track(name, client);
    await this.open(client, name);
    return client;
  }

  /**
   * Takes charge of a client an adapter duplicated for itself (the streams adapter does):
   * it gets an error listener and is closed with the rest. The adapter may still call
   * `disconnect()` on it after that; the returned view makes that call harmless.
   */
  adopt(client: object, name: string): object {
    const adopted = client as RedisClient;
    this.track(name, adopted);
    return new Proxy(adopted, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (property === 'disconnect' || property === 'destroy') {
          return () => (target.isOpen ? target.destroy() : undefined);
        }
        return (value as (...args: unknown[]) => unknown).bind(target);
      },
    });
  }

  /** Runs before the clients close (presence flushes its last writes here). */
  onBeforeClose(hook: () => Promise<void>): void {
    this.beforeClose.push(hook);
  }

  async ping(): Promise<void> {
    const client = this.command;
    // Do not queue pings behind an outage: answer "down" at once. Subscribers count too:
    // until they are back, messages from other instances do not arrive.
    const notReady = this.clients.find((each) => !each.isReady);
    if (notReady) throw new Error('redis is not connected');
    if (isCluster(client)) {
      await Promise.all(client.masters.map(async (node) => (await client.nodeClient(node)).ping()));
    } else {
      await client.ping();
    }
  }

  /** Flushes what is queued and closes every client; a client that hangs is destroyed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watch.stop();
    for (const hook of this.beforeClose) {
      await hook().catch((error: unknown) => this.errors.report('before-close', error));
    }
    await Promise.all(
      this.clients.map(async (client) => {
        const quit = client.close().catch(() => client.destroy());
        const deadline = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
        await Promise.race([quit, deadline]);
        if (client.isOpen) client.destroy();
      }),
    );
  }

  private track(name: string, client: RedisClient): void {
    this.clients.push(client);
    // Counted once per loss: node-redis emits `error` and then `reconnecting` per attempt.
    let ready = false;
    const lost = (): void => {
      if (!ready || this.closed) return;
      ready = false;
      this.watch.lost(name, this.subscribers.has(name));
    };
    client.on('error', (error: unknown) => {
      lost();
      this.errors.report(name, error);
    });
    client.on('reconnecting', () => {
      lost();
      this.errors.report(`${name}:reconnecting`, 'connection lost', 'redis reconnecting');
    });
    client.on('ready', () => {
      ready = true;
      this.logger.info({ client: name }, 'redis ready');
    });
  }

  private async open(client: RedisClient, name: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Redis at ${this.shown} did not answer within ${CONNECT_TIMEOUT_MS} ms (REDIS_URL)`,
            ),
          ),
        CONNECT_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([client.connect(), timeout]);
    } catch (error) {
      client.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        reason.includes('REDIS_URL')
          ? reason
          : `Redis at ${this.shown} is unreachable (${name}): ${reason} (REDIS_URL)`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

export function isCluster(client: RedisClient): client is ClusterClient {
  return 'masters' in client;
}
