import type { Logger } from 'pino';

/** How often Redis is asked how far behind this instance's subscribers are. */
export const BUFFER_CHECK_MS = 5000;
/**
 * Half of Redis's default soft limit for subscribers (`client-output-buffer-limit pubsub
 * 32mb 8mb 60`): past the soft limit for 60 s, or past 32 MB at once, Redis drops the
 * connection and what it held is lost.
 */
export const BEHIND_BYTES = 4 * 1024 * 1024;

/** One line of `CLIENT LIST`: its `name` and `omem` fields. */
function parseClientList(list: string): { name: string; omem: number }[] {
  return list
    .split('\n')
    .map((line) => ({
      name: / name=(\S*)/.exec(line)?.[1] ?? '',
      omem: Number(/ omem=(\d+)/.exec(line)?.[1] ?? 0),
    }))
    .filter((client) => client.name !== '');
}

/**
 * Watches this instance's Redis connections for what loses cross-instance messages without
 * an error anywhere: a connection dropped (a subscriber that Redis cut for falling behind,
 * a network blip) and resubscribed, and a subscriber falling behind (the bytes Redis holds
 * for it, `omem` in `CLIENT LIST`). Both are counted for `/metrics` and logged at `warn`.
 */
export class RedisConnectionWatch {
  /** Connections lost after they were ready, by client name. */
  readonly losses = new Map<string, number>();
  /**
   * Adapter writes (publishes) that failed: node-redis drops a command still waiting in its
   * queue after its 5 s timeout, which an instance writing more than it can send does.
   */
  adapterWriteFailures = 0;
  /** Bytes Redis held for each subscriber at the last check, by client name. */
  readonly behindBytes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private refused = false;

  constructor(
    private readonly logger: Logger,
    /** The prefix of this instance's connection names (`CLIENT SETNAME`). */
    readonly tag: string,
    /** `CLIENT LIST TYPE pubsub`, as Redis answers it. */
    private readonly listSubscribers: () => Promise<string>,
  ) {}

  lost(client: string, subscriber: boolean): void {
    this.losses.set(client, (this.losses.get(client) ?? 0) + 1);
    this.logger.warn(
      { client, subscriber },
      subscriber
        ? 'redis subscriber connection lost: messages published until it is back do not reach this instance'
        : 'redis connection lost',
    );
  }

  adapterWriteFailed(): void {
    this.adapterWriteFailures += 1;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), BUFFER_CHECK_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the subscribers' output buffers once; a Redis that refuses CLIENT LIST stops it. */
  async check(): Promise<void> {
    if (this.checking || this.refused) return;
    this.checking = true;
    try {
      // A stalled Redis must not pile checks up: each gives up after one interval.
      let timer: NodeJS.Timeout | undefined;
      const list = await Promise.race([
        this.listSubscribers(),
        new Promise<string>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer')), BUFFER_CHECK_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      const mine = parseClientList(list).filter((c) => c.name.startsWith(`${this.tag}:`));
      this.behindBytes.clear();
      for (const { name, omem } of mine) {
        const client = name.slice(this.tag.length + 1);
        this.behindBytes.set(client, omem);
        if (omem >= BEHIND_BYTES)
          this.logger.warn(
            { client, outputBufferBytes: omem },
            'redis subscriber falling behind: Redis drops it past client-output-buffer-limit pubsub',
          );
      }
    } catch (error) {
      // A managed Redis may not allow CLIENT LIST; the loss count goes on without it.
      if (error instanceof Error && /NOPERM|unknown command/.test(error.message)) {
        this.refused = true;
        this.stop();
        this.logger.info(
          { error: error.message },
          'redis refused CLIENT LIST: subscriber output buffers are not watched',
        );
      }
    } finally {
      this.checking = false;
    }
  }
}
