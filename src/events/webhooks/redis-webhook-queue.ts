import type { Logger } from 'pino';
import { hideCredentials } from '../../common/credentials.js';
import type { RedisClient, RedisConnections } from '../../cluster/redis-connections.js';
import { execute, type Reply } from '../../cluster/redis-exec.js';
import type { LifecyclePayload } from '../lifecycle-events.js';
import { postBatch } from './webhook-sender.js';
import { BATCH_SIZE, BATCH_WINDOW_MS, backoff, pause, type WebhookQueue } from './webhook-queue.js';

/*
 * One stream for the cluster, read by a consumer group: each entry goes to one instance,
 * stays pending until the receiver said 2xx, and is then acknowledged and deleted. Entries
 * an instance read and never acknowledged (it died) are claimed by another once idle.
 */
const STREAM = 'webhooks:events';
const GROUP = 'webhooks';
/** A pending entry idle this long belongs to an instance that is gone (or stuck). */
export const CLAIM_IDLE_MS = 10_000;
/** How often an instance looks for such entries. */
const CLAIM_EVERY_MS = 2000;
/** Bounds the stream if no instance delivers for a long time. */
const MAX_LENGTH = 100_000;

type Entry = [id: string, fields: string[]];

/** Every instance's events, kept in Redis until delivered: none is lost with its instance. */
export class RedisWebhookQueue implements WebhookQueue {
  private reader: RedisClient | undefined;
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private lastClaim = 0;

  constructor(
    private readonly redis: RedisConnections,
    private readonly url: string,
    private readonly secret: string,
    private readonly consumer: string,
    private readonly logger: Logger,
  ) {}

  async enqueue(event: LifecyclePayload): Promise<void> {
    await execute(this.redis.command, STREAM, [
      'XADD',
      STREAM,
      'MAXLEN',
      '~',
      String(MAX_LENGTH),
      '*',
      'e',
      JSON.stringify(event),
    ]);
  }

  async start(): Promise<void> {
    try {
      await execute(this.redis.command, STREAM, [
        'XGROUP',
        'CREATE',
        STREAM,
        GROUP,
        '0',
        'MKSTREAM',
      ]);
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
    // XREADGROUP blocks its connection: a connection of its own.
    this.reader = await this.redis.duplicate('webhooks');
    this.redis.onBeforeClose(() => this.close());
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        const entries = await this.next();
        if (entries.length > 0) await this.deliver(entries);
        failures = 0;
      } catch (error) {
        if (this.stop.signal.aborted) return;
        this.redis.errors.report('webhooks', error);
        await pause(backoff(failures++), this.stop.signal);
      }
    }
  }

  /** Entries of a gone instance first; else new ones, waiting a little to fill the batch. */
  private async next(): Promise<Entry[]> {
    if (Date.now() - this.lastClaim > CLAIM_EVERY_MS) {
      this.lastClaim = Date.now();
      const [, claimed] = (await this.command([
        'XAUTOCLAIM',
        STREAM,
        GROUP,
        this.consumer,
        String(CLAIM_IDLE_MS),
        '0-0',
        'COUNT',
        String(BATCH_SIZE),
      ])) as [string, Entry[]];
      if (claimed.length > 0) return claimed;
    }
    const first = await this.read(BATCH_SIZE, BATCH_WINDOW_MS);
    if (first.length === 0 || first.length >= BATCH_SIZE) return first;
    await pause(BATCH_WINDOW_MS, this.stop.signal);
    return [...first, ...(await this.read(BATCH_SIZE - first.length, undefined))];
  }

  private async read(count: number, blockMs: number | undefined): Promise<Entry[]> {
    const block = blockMs === undefined ? [] : ['BLOCK', String(blockMs)];
    const reply = (await this.command([
      'XREADGROUP',
      'GROUP',
      GROUP,
      this.consumer,
      'COUNT',
      String(count),
      ...block,
      'STREAMS',
      STREAM,
      '>',
    ])) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Until the receiver takes the batch (or the instance stops: the entries stay pending). */
  private async deliver(entries: Entry[]): Promise<void> {
    const events: LifecyclePayload[] = [];
    for (const [, fields] of entries) {
      try {
        events.push(JSON.parse(fields[1] ?? 'null') as LifecyclePayload);
      } catch {
        this.logger.warn({ stream: STREAM }, 'skipped a webhook entry that is not JSON');
      }
    }
    const ids = entries.map(([id]) => id);
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      if (events.length === 0 || (await postBatch(this.url, this.secret, events))) {
        await this.command(['XACK', STREAM, GROUP, ...ids]);
        await this.command(['XDEL', STREAM, ...ids]);
        return;
      }
      if (attempt === 0)
        this.logger.warn(
          { url: hideCredentials(this.url), events: events.length },
          'webhook receiver failed; retrying',
        );
      await pause(backoff(attempt), this.stop.signal);
    }
  }

  private command(args: string[]): Promise<Reply> {
    return execute(this.reader ?? this.redis.command, STREAM, args);
  }
}
