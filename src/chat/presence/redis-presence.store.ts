import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { PresenceState, PresentUser, UserRef } from '../chat.events.js';
import type { PresenceStore, RoomChangeListener, UsersGoneListener } from './presence.store.js';
import type { RedisConnections } from '../../cluster/redis-connections.js';
import { execute, type Reply, Script } from '../../cluster/redis-exec.js';

/*
 * Keys. A room's three hashes share the hash tag `{room}`, so one script can update them
 * atomically on a Redis Cluster too (room names cannot contain braces).
 *   presence:{room}:users   userId -> sockets of that user in the room, cluster-wide
 *   presence:{room}:names   userId -> display name (present users only: the list)
 *   presence:{room}:owners  "<instance>|<userId>" -> sockets that instance holds
 *   presence:{room}:state   userId -> the user's state JSON, deleted when the user goes
 *   presence:instances      ZSET instance -> last heartbeat (Redis server time, ms)
 *   presence:instance:{id}:rooms  SET of rooms the instance holds sockets in
 */
const roomKeys = (room: string): string[] => [
  `presence:{${room}}:users`,
  `presence:{${room}}:names`,
  `presence:{${room}}:owners`,
  `presence:{${room}}:state`,
];
const INSTANCES = 'presence:instances';
const instanceRooms = (id: string): string => `presence:instance:{${id}}:rooms`;

/** 1: the user's first socket in the room; 2: and the room's first user. */
const JOIN = new Script(`
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if redis.call('HINCRBY', KEYS[1], ARGV[1], 1) ~= 1 then return 0 end
return redis.call('HLEN', KEYS[1]) == 1 and 2 or 1
`);

const LEAVE = new Script(`
local own = redis.call('HINCRBY', KEYS[3], ARGV[2], -1)
if own < 0 then redis.call('HDEL', KEYS[3], ARGV[2]) return 0 end
if own == 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return redis.call('HLEN', KEYS[1]) == 0 and 2 or 1
`);

/** Sets a user's state while they are present. ARGV: user, state JSON. */
const SET_STATE = new Script(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
return 1
`);

/** Names and states of the present users. */
const LIST = new Script(`
return { redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[4]) }
`);

/**
 * Makes this instance's share of a room in Redis match what it really holds (after Redis
 * lost its data, or after this instance was wrongly taken for dead, or a write failed).
 * ARGV: the instance's field prefix, then (user, name, sockets) triples. Returns the users
 * now gone and those present again, each as [id, name, …], and 1 when the room went from
 * nobody to somebody, -1 the other way, else 0.
 */
const RESYNC_ROOM = new Script(`
local before = redis.call('HLEN', KEYS[1])
local prefix = ARGV[1]
local want = {}
for i = 2, #ARGV, 3 do want[ARGV[i]] = { name = ARGV[i + 1], count = tonumber(ARGV[i + 2]) } end
local gone = {}
local owners = redis.call('HGETALL', KEYS[3])
for i = 1, #owners, 2 do
  local field = owners[i]
  if string.sub(field, 1, #prefix) == prefix then
    local user = string.sub(field, #prefix + 1)
    local have = tonumber(owners[i + 1])
    local target = want[user] and want[user].count or 0
    if want[user] then want[user].seen = true end
    if target ~= have then
      local n = redis.call('HINCRBY', KEYS[1], user, target - have)
      if target == 0 then redis.call('HDEL', KEYS[3], field) else redis.call('HSET', KEYS[3], field, target) end
      if n <= 0 then
        local name = redis.call('HGET', KEYS[2], user)
        redis.call('HDEL', KEYS[1], user)
        redis.call('HDEL', KEYS[2], user)
        redis.call('HDEL', KEYS[4], user)
        table.insert(gone, user)
        table.insert(gone, name or user)
      end
    end
  end
end
local back = {}
for user, w in pairs(want) do
  if not w.seen then
    redis.call('HSET', KEYS[3], prefix .. user, w.count)
    if redis.call('HINCRBY', KEYS[1], user, w.count) == w.count then
      table.insert(back, user)
      table.insert(back, w.name)
    end
  end
  redis.call('HSET', KEYS[2], user, w.name)
end
local after = redis.call('HLEN', KEYS[1])
local change = 0
if before == 0 and after > 0 then change = 1 elseif before > 0 and after == 0 then change = -1 end
return { gone, back, change }
`);

/** Heartbeat in Redis server time; answers 1 when this instance was not listed (Redis lost it, or it was reaped). */
const HEARTBEAT = new Script(`
local t = redis.call('TIME')
return redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1])
`);

/** A heartbeat ARGV[2] ms in the past: the instance is taken for dead that much sooner. */
const AGED_HEARTBEAT = new Script(`
local t = redis.call('TIME')
return redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[2]), ARGV[1])
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

interface LocalMember {
  readonly name: string;
  /** This instance's sockets of the user in the room: joins and leaves are idempotent. */
  readonly sockets: Set<string>;
}

/**
 * Presence shared by every instance through Redis. A user is present in a room while any of
 * their sockets on any instance is in it; the join/leave scripts say when the first socket
 * arrives and the last one goes, atomically.
 *
 * Each instance also keeps its own share in memory, by socket: the truth for its sockets.
 * Instances heartbeat every TTL/4; one whose heartbeat is older than TTL/2 is taken as dead,
 * and the first instance to claim it removes its share and announces the users who are gone:
 * a crashed instance's users vanish within about 3/4 of `PRESENCE_TTL_S`. An instance that
 * finds itself missing from the heartbeat set (Redis restarted empty, or it was taken for
 * dead during an outage), or whose write failed, writes its share again from memory; after
 * its own outage it reaps nobody for TTL/2, so the others can beat again first.
 *
 * An instance that stops while it still counts sockets (the drain let them go to other
 * instances, where they count again once they are back) does not decide who is gone: it hands
 * its share over, ageing its heartbeat so that another instance reaps it TTL/4 later, like a
 * dead one's. Whoever came back by then is never announced; whoever did not is, once.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly instanceId: string;
  private readonly local = new Map<string, Map<string, LocalMember>>();
  /** Rooms whose share in Redis may be wrong: a write failed. */
  private readonly dirty = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly listeners: UsersGoneListener[] = [];
  private readonly joinedListeners: UsersGoneListener[] = [];
  private readonly roomListeners: RoomChangeListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private lastBeatAt = Date.now();
  private quietUntil = 0;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: RedisPresenceOptions,
  ) {
    this.instanceId =
      options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    redis.onBeforeClose(() => this.shutdown());
    redis.command.on('ready', () => void this.tick());
  }

  /** Starts the heartbeat and the reaper of dead instances. */
  async start(): Promise<void> {
    await this.heartbeat();
    this.timer = setInterval(() => void this.tick(), this.options.ttlS * 250);
    this.timer.unref();
  }

  onUsersGone(listener: UsersGoneListener): void {
    this.listeners.push(listener);
  }

  /** Users present again after a resync (their `presence:left` may have gone out meanwhile). */
  onUsersBack(listener: UsersGoneListener): void {
    this.joinedListeners.push(listener);
  }

  onRoomChange(listener: RoomChangeListener): void {
    this.roomListeners.push(listener);
  }

  join(room: string, user: UserRef, socketId: string): Promise<boolean> {
    if (!this.addLocal(room, user, socketId)) return Promise.resolve(false);
    return this.write(room, () =>
      JOIN.run(this.redis.command, roomKeys(room), [user.id, user.name, this.owner(user.id)]),
    ).then(
      (reply) => this.changed(room, reply, true),
      (error: unknown) => {
        this.removeLocal(room, user.id, socketId);
        throw error;
      },
    );
  }

  leave(room: string, user: UserRef, socketId: string): Promise<boolean> {
    if (!this.removeLocal(room, user.id, socketId)) return Promise.resolve(false);
    return this.write(room, () =>
      LEAVE.run(this.redis.command, roomKeys(room), [user.id, this.owner(user.id)]),
    ).then((reply) => this.changed(room, reply, false));
  }

  /** A join or leave reply: 1 the user's first or last socket, 2 the room's too. */
  private changed(room: string, reply: Reply, joined: boolean): boolean {
    if (reply === 2) this.roomChanged(room, joined);
    return reply === 1 || reply === 2;
  }

  private roomChanged(room: string, occupied: boolean): void {
    for (const listener of this.roomListeners) listener(room, occupied);
  }

  async list(room: string): Promise<PresentUser[]> {
    const [names, states] = (await LIST.run(this.redis.command, roomKeys(room), [])) as [
      string[],
      string[],
    ];
    const stateOf = new Map<string, string>();
    for (let i = 0; i < states.length; i += 2) stateOf.set(states[i], states[i + 1]);
    return pairs(names).map((user) => {
      const state = stateOf.get(user.id);
      return state === undefined ? user : { ...user, state: JSON.parse(state) as PresenceState };
    });
  }

  async setState(room: string, userId: string, state: PresenceState): Promise<boolean> {
    const reply = await SET_STATE.run(this.redis.command, roomKeys(room), [
      userId,
      JSON.stringify(state),
    ]);
    return reply === 1;
  }

  /** Removes every trace of an instance; returns the users gone per room. */
  async reap(instanceId: string): Promise<Map<string, UserRef[]>> {
    const roomsKey = instanceRooms(instanceId);
    const rooms = (await execute(this.redis.command, roomsKey, ['SMEMBERS', roomsKey])) as string[];
    const gone = new Map<string, UserRef[]>();
    for (const room of rooms) {
      // A share with nobody in it: the instance's every socket leaves the room.
      const [left, , change] = (await RESYNC_ROOM.run(this.redis.command, roomKeys(room), [
        `${instanceId}|`,
      ])) as [string[], string[], number];
      const users = pairs(left);
      if (users.length > 0) gone.set(room, users);
      if (change === -1) this.roomChanged(room, false);
    }
    await execute(this.redis.command, roomsKey, ['DEL', roomsKey]);
    return gone;
  }

  private tick(): Promise<void> {
    if (this.running || this.closed || !this.redis.command.isReady)
      return this.running ?? Promise.resolve();
    this.running = this.beat()
      .catch((error: unknown) => this.redis.errors.report('presence', error))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async beat(): Promise<void> {
    const staleAfterMs = this.options.ttlS * 500;
    const missing = (await this.heartbeat()) === 1;
    const now = Date.now();
    // Back from an outage of our own: every heartbeat is old; let the others beat first.
    if (now - this.lastBeatAt > staleAfterMs) this.quietUntil = now + staleAfterMs;
    this.lastBeatAt = now;
    if (missing) for (const room of this.local.keys()) this.dirty.add(room);
    if (this.dirty.size > 0) await this.resync();
    if (now < this.quietUntil) return;
    const stale = (await STALE.run(
      this.redis.command,
      [INSTANCES],
      [String(staleAfterMs)],
    )) as string[];
    for (const instanceId of stale) {
      if (instanceId === this.instanceId) continue;
      // ZREM answers 1 to exactly one claimant: only that instance reaps and announces.
      const claimed = await execute(this.redis.command, INSTANCES, ['ZREM', INSTANCES, instanceId]);
      if (claimed !== 1) continue;
      const gone = await this.reap(instanceId);
      this.options.logger.warn(
        { instanceId, rooms: gone.size },
        'removed the presence of a dead instance',
      );
      this.announce(this.listeners, gone);
    }
  }

  /** Writes this instance's share of every dirty room again from memory; a room that fails stays dirty. */
  private async resync(): Promise<void> {
    let failure: unknown;
    for (const room of [...this.dirty]) {
      this.dirty.delete(room);
      const members = this.local.get(room) ?? new Map<string, LocalMember>();
      const args = [`${this.instanceId}|`];
      for (const [id, member] of members) args.push(id, member.name, String(member.sockets.size));
      try {
        const [gone, back, change] = (await RESYNC_ROOM.run(
          this.redis.command,
          roomKeys(room),
          args,
        )) as [string[], string[], number];
        if (change !== 0) this.roomChanged(room, change === 1);
        const key = instanceRooms(this.instanceId);
        await execute(
          this.redis.command,
          key,
          members.size > 0 ? ['SADD', key, room] : ['SREM', key, room],
        );
        this.announce(this.listeners, new Map([[room, pairs(gone)]]));
        this.announce(this.joinedListeners, new Map([[room, pairs(back)]]));
      } catch (error) {
        this.dirty.add(room);
        failure ??= error;
      }
    }
    if (failure !== undefined) {
      throw failure instanceof Error ? failure : new Error('presence resync failed');
    }
  }

  private announce(listeners: UsersGoneListener[], byRoom: Map<string, UserRef[]>): void {
    for (const [room, users] of byRoom) {
      if (users.length > 0) for (const listener of listeners) listener(room, users);
    }
  }

  private heartbeat(): Promise<Reply> {
    return HEARTBEAT.run(this.redis.command, [INSTANCES], [this.instanceId]);
  }

  /**
   * On the way out: stop beating and let the last writes land. Sockets still counted here are
   * on their way elsewhere, and a reconnect can take longer than any fixed wait (a loaded
   * survivor, a slow network): their share is handed over (see the class comment). With none
   * left, whatever a failed write left behind is removed now.
   */
  private async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    await Promise.allSettled([...this.inflight]);
    if (this.local.size > 0) {
      // Stale TTL/2 after its last beat: aged by TTL/4, it is reaped TTL/4 to TTL/2 from now.
      await AGED_HEARTBEAT.run(
        this.redis.command,
        [INSTANCES],
        [this.instanceId, String(this.options.ttlS * 250)],
      );
      return;
    }
    this.announce(this.listeners, await this.reap(this.instanceId));
    await execute(this.redis.command, INSTANCES, ['ZREM', INSTANCES, this.instanceId]);
  }

  private owner(userId: string): string {
    return `${this.instanceId}|${userId}`;
  }

  /** Adds a socket to this instance's share; false when it was there already. */
  private addLocal(room: string, user: UserRef, socketId: string): boolean {
    let members = this.local.get(room);
    if (!members) {
      members = new Map();
      this.local.set(room, members);
      const key = instanceRooms(this.instanceId);
      this.write(room, () => execute(this.redis.command, key, ['SADD', key, room])).catch(
        () => undefined,
      );
    }
    let member = members.get(user.id);
    if (!member) {
      member = { name: user.name, sockets: new Set() };
      members.set(user.id, member);
    }
    if (member.sockets.has(socketId)) return false;
    member.sockets.add(socketId);
    return true;
  }

  /** Removes a socket from this instance's share; false when it was not there. */
  private removeLocal(room: string, userId: string, socketId: string): boolean {
    const members = this.local.get(room);
    const member = members?.get(userId);
    if (!members || !member || !member.sockets.delete(socketId)) return false;
    if (member.sockets.size === 0) members.delete(userId);
    if (members.size === 0) {
      this.local.delete(room);
      const key = instanceRooms(this.instanceId);
      this.write(room, () => execute(this.redis.command, key, ['SREM', key, room])).catch(
        () => undefined,
      );
    }
    return true;
  }

  /** Runs a write; a failure marks the room for a resync once Redis answers again. */
  private write(room: string, operation: () => Promise<Reply>): Promise<Reply> {
    const promise = operation().then(
      (reply) => reply,
      (error: unknown) => {
        this.dirty.add(room);
        throw error;
      },
    );
    this.inflight.add(promise);
    const forget = (): void => void this.inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}

function pairs(flat: string[]): UserRef[] {
  const users: UserRef[] = [];
  for (let i = 0; i < flat.length; i += 2) users.push({ id: flat[i], name: flat[i + 1] });
  return users;
}
