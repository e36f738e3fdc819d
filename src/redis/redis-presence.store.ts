import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { UserRef } from '../chat/chat.events.js';
import type { PresenceStore, UsersGoneListener } from '../chat/presence/presence.store.js';
import type { RedisConnections } from './redis-connections.js';
import { execute, type Reply, Script } from './redis-exec.js';

/*
 * Keys. A room's three hashes share the hash tag `{room}`, so one script can update them
 * atomically on a Redis Cluster too (room names cannot contain braces).
 *   presence:{room}:users   userId -> sockets of that user in the room, cluster-wide
 *   presence:{room}:names   userId -> display name (present users only: the list)
 *   presence:{room}:owners  "<instance>|<userId>" -> sockets that instance holds
 *   presence:instances      ZSET instance -> last heartbeat (Redis server time, ms)
 *   presence:instance:{id}:rooms  SET of rooms the instance holds sockets in
 */
const roomKeys = (room: string): string[] => [
  `presence:{${room}}:users`,
  `presence:{${room}}:names`,
  `presence:{${room}}:owners`,
];
const INSTANCES = 'presence:instances';
const instanceRooms = (id: string): string => `presence:instance:{${id}}:rooms`;

const JOIN = new Script(`
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1) == 1 and 1 or 0
`);

const LEAVE = new Script(`
local own = redis.call('HINCRBY', KEYS[3], ARGV[2], -1)
if own < 0 then redis.call('HDEL', KEYS[3], ARGV[2]) return 0 end
if own == 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`);

/** Removes every socket an instance held in a room; returns [id, name, …] of users now gone. */
const REAP_ROOM = new Script(`
local gone = {}
local prefix = ARGV[1]
local owners = redis.call('HGETALL', KEYS[3])
for i = 1, #owners, 2 do
  local field = owners[i]
  if string.sub(field, 1, #prefix) == prefix then
    local user = string.sub(field, #prefix + 1)
    redis.call('HDEL', KEYS[3], field)
    local n = redis.call('HINCRBY', KEYS[1], user, -tonumber(owners[i + 1]))
    if n <= 0 then
      local name = redis.call('HGET', KEYS[2], user)
      redis.call('HDEL', KEYS[1], user)
      redis.call('HDEL', KEYS[2], user)
      table.insert(gone, user)
      table.insert(gone, name or user)
    end
  end
end
return gone
`);

/** Heartbeat in Redis server time, so instances' clocks never disagree. */
const HEARTBEAT = new Script(`
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1])
`);

/** Instances whose last heartbeat is older than ARGV[1] ms, by Redis server time. */
const STALE = new Script(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
`);

export interface RedisPresenceOptions {
  readonly ttlS: number;
  readonly logger: Logger;
  readonly instanceId?: string;
}

/**
 * Presence shared by every instance through Redis. A user is present in a room while any of
 * their sockets on any instance is in it; the join/leave scripts say when the first socket
 * arrives and the last one goes, atomically. Instances heartbeat every TTL/4; one whose
 * heartbeat is older than TTL/2 is taken as dead, and the first instance to claim it removes
 * its sockets and announces the users who are gone: a crashed instance's users vanish within
 * about 3/4 of `PRESENCE_TTL_S`.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly instanceId: string;
  private readonly localRooms = new Map<string, number>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly listeners: UsersGoneListener[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: RedisPresenceOptions,
  ) {
    this.instanceId =
      options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    redis.onBeforeClose(() => this.shutdown());
  }

  /** Starts the heartbeat and the reaper of dead instances. */
  async start(): Promise<void> {
    await this.heartbeat();
    const periodMs = this.options.ttlS * 250;
    this.timer = setInterval(() => void this.tick(), periodMs);
    this.timer.unref();
  }

  onUsersGone(listener: UsersGoneListener): void {
    this.listeners.push(listener);
  }

  join(room: string, user: UserRef): Promise<boolean> {
    return this.track(async () => {
      this.countLocal(room, +1);
      try {
        const first = await JOIN.run(this.redis.command, roomKeys(room), [
          user.id,
          user.name,
          this.owner(user.id),
        ]);
        return first === 1;
      } catch (error) {
        this.countLocal(room, -1);
        throw error;
      }
    });
  }

  leave(room: string, user: UserRef): Promise<boolean> {
    return this.track(async () => {
      this.countLocal(room, -1);
      const last = await LEAVE.run(this.redis.command, roomKeys(room), [
        user.id,
        this.owner(user.id),
      ]);
      return last === 1;
    });
  }

  async list(room: string): Promise<UserRef[]> {
    const [, names] = roomKeys(room);
    const flat = (await execute(this.redis.command, names, ['HGETALL', names])) as string[];
    const users: UserRef[] = [];
    for (let i = 0; i < flat.length; i += 2) users.push({ id: flat[i], name: flat[i + 1] });
    return users;
  }

  /** Removes every trace of an instance; returns the users gone per room. */
  async reap(instanceId: string): Promise<Map<string, UserRef[]>> {
    const roomsKey = instanceRooms(instanceId);
    const rooms = (await execute(this.redis.command, roomsKey, ['SMEMBERS', roomsKey])) as string[];
    const gone = new Map<string, UserRef[]>();
    for (const room of rooms) {
      const flat = (await REAP_ROOM.run(this.redis.command, roomKeys(room), [
        `${instanceId}|`,
      ])) as string[];
      const users: UserRef[] = [];
      for (let i = 0; i < flat.length; i += 2) users.push({ id: flat[i], name: flat[i + 1] });
      if (users.length > 0) gone.set(room, users);
    }
    await execute(this.redis.command, roomsKey, ['DEL', roomsKey]);
    return gone;
  }

  private async tick(): Promise<void> {
    try {
      await this.heartbeat();
      const staleAfterMs = String(this.options.ttlS * 500);
      const stale = (await STALE.run(this.redis.command, [INSTANCES], [staleAfterMs])) as string[];
      for (const instanceId of stale) {
        if (instanceId === this.instanceId) continue;
        // ZREM answers 1 to exactly one claimant: only that instance reaps and announces.
        const claimed = await execute(this.redis.command, INSTANCES, [
          'ZREM',
          INSTANCES,
          instanceId,
        ]);
        if (claimed !== 1) continue;
        const gone = await this.reap(instanceId);
        this.options.logger.warn(
          { instanceId, rooms: gone.size },
          'removed the presence of a dead instance',
        );
        for (const [room, users] of gone)
          for (const listener of this.listeners) listener(room, users);
      }
    } catch (error) {
      this.redis.errors.report('presence', error);
    }
  }

  private heartbeat(): Promise<Reply> {
    return HEARTBEAT.run(this.redis.command, [INSTANCES], [this.instanceId]);
  }

  /** On the way out: stop beating, let the last writes land, then remove what is left. */
  private async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inflight]);
    await this.reap(this.instanceId);
    await execute(this.redis.command, INSTANCES, ['ZREM', INSTANCES, this.instanceId]);
  }

  private owner(userId: string): string {
    return `${this.instanceId}|${userId}`;
  }

  /** Keeps this instance's room set in Redis: added on its first socket, removed on its last. */
  private countLocal(room: string, delta: 1 | -1): void {
    const count = (this.localRooms.get(room) ?? 0) + delta;
    const key = instanceRooms(this.instanceId);
    if (count <= 0) {
      this.localRooms.delete(room);
      void this.track(() => execute(this.redis.command, key, ['SREM', key, room]));
    } else {
      this.localRooms.set(room, count);
      if (count === 1 && delta === 1)
        void this.track(() => execute(this.redis.command, key, ['SADD', key, room]));
    }
  }

  private track<T>(operation: () => Promise<T>): Promise<T> {
    const promise = operation();
    this.inflight.add(promise);
    const forget = (): void => void this.inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}
