import type { Logger } from 'pino';
import { Script } from '../../cluster/redis-exec.js';
import type { RedisConnections } from '../../cluster/redis-connections.js';
import { newEpoch } from './new-epoch.js';
import {
  type Appended,
  DEDUPE_WINDOW_S,
  EMPTY_ROOM_TTL_S,
  type HistoryPage,
  type NewMessage,
  type Published,
  type RoomHistory,
  type StoredMessage,
} from './room-history.js';

/*
 * Keys. A room's keys share the hash tag `{room}`, so one script updates them atomically on
 * a Redis Cluster too (room names cannot contain braces). All expire together after the TTL.
 *   history:{room}:seq     the room's newest offset
 *   history:{room}:log     ZSET offset -> message JSON (with its offset), the last SIZE
 *   history:{room}:epoch   the history's lifetime; gone with the others, a new one is made
 *   history:{room}:sent:…  a sender's clientMsgId -> its first message, for 10 minutes
 * The feed is one channel; a published entry is `epoch|sender socket|message JSON`.
 */
const FEED = 'chat:feed';
const keysOf = (room: string): [seq: string, log: string, epoch: string] => [
  `history:{${room}}:seq`,
  `history:{${room}}:log`,
  `history:{${room}}:epoch`,
];
const sentKey = (room: string, dedupe: string): string => `history:{${room}}:sent:${dedupe}`;

/**
 * Appends and publishes in one step, so Redis orders the feed by offset. ARGV: a new epoch
 * in case there is none, SIZE, TTL, the message JSON (without its offset), the feed, the
 * sender's socket id, and the dedupe window (0: no dedupe, KEYS[4] unused).
 */
const APPEND = new Script(`
if ARGV[7] ~= '0' then
  local earlier = redis.call('GET', KEYS[4])
  if earlier then return {0, earlier} end
end
redis.call('SET', KEYS[3], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[3])
local offset = redis.call('INCR', KEYS[1])
local json = '{"offset":' .. offset .. ',' .. string.sub(ARGV[4], 2)
redis.call('ZADD', KEYS[2], offset, json)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
local entry = epoch .. '|' .. json
if ARGV[7] ~= '0' then redis.call('SET', KEYS[4], entry, 'EX', ARGV[7]) end
redis.call('PUBLISH', ARGV[5], epoch .. '|' .. ARGV[6] .. '|' .. json)
return {1, entry}
`);

/**
 * A page of a room, with its epoch (made if the room has none yet) and head. ARGV: a new
 * epoch, the TTL of an epoch made here (a room with no messages yet), then `latest <n>`, `after <offset> <n>` or `before <offset> <n>`.
 */
const READ = new Script(`
redis.call('SET', KEYS[3], ARGV[1], 'NX', 'EX', ARGV[2])
local epoch = redis.call('GET', KEYS[3])
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local page
if ARGV[3] == 'latest' then
  page = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[4]) - 1)
elseif ARGV[3] == 'after' then
  page = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[4], '+inf', 'LIMIT', 0, ARGV[5])
else
  page = redis.call('ZREVRANGEBYSCORE', KEYS[2], '(' .. ARGV[4], '-inf', 'LIMIT', 0, ARGV[5])
end
return {epoch, head, page}
`);

/** The history in Redis, shared by every instance whatever `REDIS_ADAPTER` is. */
export class RedisRoomHistory implements RoomHistory {
  private readonly listeners: ((published: Published) => void)[] = [];
  private readonly restoredListeners: (() => void)[] = [];

  constructor(
    private readonly redis: RedisConnections,
    private readonly size: number,
    private readonly ttlS: number,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to the feed; after a reconnect, listeners catch up from the store. */
  async start(): Promise<void> {
    const feed = await this.redis.duplicate('history-feed', { subscriber: true });
    let connectedOnce = false;
    feed.on('ready', () => {
      if (connectedOnce) for (const listener of this.restoredListeners) listener();
      connectedOnce = true;
    });
    const subscriber = feed as {
      subscribe(channel: string, listener: (entry: string) => void): Promise<void>;
    };
    await subscriber.subscribe(FEED, (entry) => this.onEntry(entry));
    connectedOnce = true;
  }

  async append(message: NewMessage, sender: string, dedupe?: string): Promise<Appended> {
    const [seq, log, epochKey] = keysOf(message.room);
    const json = JSON.stringify(message);
    const reply = (await APPEND.run(
      this.redis.command,
      [seq, log, epochKey, sentKey(message.room, dedupe ?? '')],
      [
        newEpoch(),
        String(this.size),
        String(this.ttlS),
        json,
        FEED,
        sender,
        dedupe ? String(DEDUPE_WINDOW_S) : '0',
      ],
    )) as [number, string];
    const [fresh, entry] = reply;
    const split = entry.indexOf('|');
    return {
      epoch: entry.slice(0, split),
      message: JSON.parse(entry.slice(split + 1)) as StoredMessage,
      duplicate: Number(fresh) === 0,
    };
  }

  latest(room: string, limit: number): Promise<HistoryPage> {
    return this.read(room, ['latest', String(limit)], true);
  }

  after(room: string, offset: number, limit: number): Promise<HistoryPage> {
    return this.read(room, ['after', String(offset), String(limit)], false);
  }

  before(room: string, offset: number, limit: number): Promise<HistoryPage> {
    return this.read(room, ['before', String(offset), String(limit)], true);
  }

  onPublished(listener: (published: Published) => void): void {
    this.listeners.push(listener);
  }

  onFeedRestored(listener: () => void): void {
    this.restoredListeners.push(listener);
  }

  private async read(room: string, args: string[], newestFirst: boolean): Promise<HistoryPage> {
    const keys = keysOf(room);
    const [epoch, head, page] = (await READ.run(this.redis.command, keys, [
      newEpoch(),
      String(Math.min(this.ttlS, EMPTY_ROOM_TTL_S)),
      ...args,
    ])) as [string, number, string[]];
    const messages = page.map((json) => JSON.parse(json) as StoredMessage);
    if (newestFirst) messages.reverse();
    return { epoch, head: Number(head), messages };
  }

  private onEntry(entry: string): void {
    const first = entry.indexOf('|');
    const second = entry.indexOf('|', first + 1);
    let message: StoredMessage;
    try {
      message = JSON.parse(entry.slice(second + 1)) as StoredMessage;
    } catch (error) {
      this.logger.warn({ err: error }, 'unreadable history feed entry');
      return;
    }
    const published = {
      epoch: entry.slice(0, first),
      sender: entry.slice(first + 1, second),
      message,
    };
    for (const listener of this.listeners) listener(published);
  }
}
