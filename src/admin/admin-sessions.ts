import { createHash } from 'node:crypto';
import { execute } from '../cluster/redis-exec.js';
import type { RedisClient } from '../cluster/redis-connections.js';

/** How long a sign-in to the admin UI lasts: its session id, and each admin socket. */
export const ADMIN_SESSION_S = 12 * 60 * 60;

/**
 * What `instrument()` asks of its `store`: the session ids it hands the UI after a good
 * password, which the UI presents instead of the password when the page is opened again.
 * Neither method may reject: the UI's auth middleware awaits `doesSessionExist` without a
 * catch, and a rejection there would reach the crash policy.
 */
export interface AdminSessions {
  doesSessionExist(sessionId: unknown): Promise<boolean>;
  saveSession(sessionId: string): void;
}

/**
 * The key prefix of the sessions of one user and password hash: a new password (or user)
 * signs every open session out.
 */
export function sessionPrefix(user: string, passwordHash: string): string {
  const digest = createHash('sha256').update(`${user}\n${passwordHash}`).digest('hex');
  return `admin-ui:session:${digest.slice(0, 16)}:`;
}

const isSessionId = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 64;

/** One instance: sessions in memory, forgotten on restart, expired ones dropped as new come. */
export class MemorySessions implements AdminSessions {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlS: number,
    private readonly now: () => number = Date.now,
  ) {}

  doesSessionExist(sessionId: unknown): Promise<boolean> {
    const expiry = isSessionId(sessionId) ? this.expiries.get(sessionId) : undefined;
    return Promise.resolve(expiry !== undefined && expiry > this.now());
  }

  saveSession(sessionId: string): void {
    const now = this.now();
    for (const [id, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(id);
    this.expiries.set(sessionId, now + this.ttlS * 1000);
  }
}

/**
 * Sessions in Redis, shared by every instance: after a drain or a restart the UI reconnects
 * to another instance with its session id and is let in there. The package's own
 * `RedisStore` calls node-redis 3's callback API (`exists(key, callback)`), which node-redis
 * 4 and later do not have: its check would never answer.
 */
export class RedisSessions implements AdminSessions {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly ttlS: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async doesSessionExist(sessionId: unknown): Promise<boolean> {
    if (!isSessionId(sessionId)) return false;
    const key = this.prefix + sessionId;
    try {
      return (await execute(this.client, key, ['EXISTS', key])) === 1;
    } catch (error) {
      this.onError(error);
      return false;
    }
  }

  saveSession(sessionId: string): void {
    const key = this.prefix + sessionId;
    execute(this.client, key, ['SET', key, '1', 'EX', String(this.ttlS)]).catch(this.onError);
  }
}
