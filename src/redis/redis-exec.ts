import { createHash } from 'node:crypto';
import { isCluster, type RedisClient } from './redis-connections.js';

export type Reply = string | number | null | Reply[];

/** How long a presence command may take before the caller gets an error (a stalled Redis). */
const PRESENCE_DEADLINE_MS = 2000;

/**
 * Rejects if `promise` has not settled within `ms`. node-redis's command timeout stops once
 * a command is written, so a Redis that stalls (SIGSTOP, a partition with no reset) would
 * otherwise hold the caller until TCP gives up. A late failure of `promise` stays handled.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${what} got no answer from Redis within ${ms} ms`);
      error.name = 'TimeoutError';
      reject(error);
    }, ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * One way to send a raw command to a standalone server or a cluster. On a cluster the
 * command goes to the node that owns `key`'s slot, so a multi-key command (a script) must
 * only use keys of one hash tag.
 */
export function execute(client: RedisClient, key: string, args: string[]): Promise<Reply> {
  const reply = isCluster(client) ? client.sendCommand(key, false, args) : client.sendCommand(args);
  return withDeadline(reply as unknown as Promise<Reply>, PRESENCE_DEADLINE_MS, args[0]);
}

/** A Lua script sent by EVALSHA; a node that lacks it gets EVAL once (which caches it). */
export class Script {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: string[]): Promise<Reply> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await execute(client, keys[0], ['EVALSHA', this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return execute(client, keys[0], ['EVAL', this.source, ...tail]);
    }
  }
}
