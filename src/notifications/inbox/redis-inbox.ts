import { Script } from '../../cluster/redis-exec.js';
import type { RedisConnections } from '../../cluster/redis-connections.js';
import type { Reply } from '../../cluster/redis-exec.js';
import type { Notification, UnreadCount } from '../notifications.events.js';
import type { Inbox, InboxItem } from './inbox.js';

/*
 * Keys. A user's keys share a hash tag, so one script updates them on a Redis Cluster too;
 * the id is URI-encoded, so a `{` or `}` in it cannot change the tag. All expire together.
 *   inbox:{user}:ids     ZSET, every score 0: ids in lexical order, which is time order
 *   inbox:{user}:data    HASH id -> notification JSON
 *   inbox:{user}:unread  SET of unread ids
 *   inbox:{user}:version one more on every change: counts carry it, so clients keep the newest
 */
const keysOf = (userId: string): [ids: string, data: string, unread: string, version: string] => {
  const tag = `inbox:{${encodeURIComponent(userId)}}`;
  return [`${tag}:ids`, `${tag}:data`, `${tag}:unread`, `${tag}:version`];
};

/** ARGV: id, JSON, SIZE, TTL. Drops the oldest past SIZE; returns the unread count. */
const ADD = new Script(`
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if over > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
  redis.call('HDEL', KEYS[2], unpack(old))
  redis.call('SREM', KEYS[3], unpack(old))
end
local version = redis.call('INCR', KEYS[4])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return { redis.call('SCARD', KEYS[3]), version }
`);

/** ARGV: limit, then the id to page before (or none). Returns id, JSON, unread (1/0) triples. */
const LIST = new Script(`
local top = ARGV[2] and ('(' .. ARGV[2]) or '+'
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], top, '-', 'LIMIT', 0, ARGV[1])
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or 'null'
  out[#out + 1] = redis.call('SISMEMBER', KEYS[3], id)
end
return out
`);

/** ARGV: 'all', or 'ids' and the ids to mark read. Returns the unread count left. */
const MARK_READ = new Script(`
if ARGV[1] == 'all' then
  redis.call('DEL', KEYS[3])
elseif #ARGV > 1 then
  redis.call('SREM', KEYS[3], unpack(ARGV, 2))
end
return { redis.call('SCARD', KEYS[3]), redis.call('INCR', KEYS[4]) }
`);

const UNREAD = new Script(`
return { redis.call('SCARD', KEYS[3]), tonumber(redis.call('GET', KEYS[4]) or '0') }
`);

/** Every user's inbox in Redis, shared by all instances. */
export class RedisInbox implements Inbox {
  constructor(
    private readonly redis: RedisConnections,
    private readonly size: number,
    private readonly ttlS: number,
  ) {}

  async add(userId: string, notification: Notification): Promise<UnreadCount> {
    const args = [
      notification.id,
      JSON.stringify(notification),
      String(this.size),
      String(this.ttlS),
    ];
    return countOf(await ADD.run(this.redis.command, keysOf(userId), args));
  }

  async list(userId: string, before: string | undefined, limit: number): Promise<InboxItem[]> {
    const args = before === undefined ? [String(limit)] : [String(limit), before];
    const flat = (await LIST.run(this.redis.command, keysOf(userId), args)) as (string | number)[];
    const items: InboxItem[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const notification = JSON.parse(String(flat[i])) as Notification | null;
      if (notification) items.push({ ...notification, read: Number(flat[i + 1]) === 0 });
    }
    return items;
  }

  async markRead(userId: string, ids: readonly string[] | 'all'): Promise<UnreadCount> {
    const args = ids === 'all' ? ['all'] : ['ids', ...ids];
    return countOf(await MARK_READ.run(this.redis.command, keysOf(userId), args));
  }

  async unread(userId: string): Promise<UnreadCount> {
    return countOf(await UNREAD.run(this.redis.command, keysOf(userId), []));
  }
}

function countOf(reply: Reply): UnreadCount {
  const [count, version] = reply as [number, number];
  return { count: Number(count), version: Number(version) };
}
