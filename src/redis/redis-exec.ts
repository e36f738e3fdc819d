import { createHash } from 'node:crypto';
import { isCluster, type RedisClient } from './redis-connections.js';

export type Reply = string | number | null | Reply[];

/**
 * One way to send a raw command to a standalone server or a cluster. On a cluster the
 * command goes to the node that owns `key`'s slot, so a multi-key command (a script) must
 * only use keys of one hash tag.
 */
export function execute(client: RedisClient, key: string, args: string[]): Promise<Reply> {
  const reply = isCluster(client) ? client.sendCommand(key, false, args) : client.sendCommand(args);
  return reply as unknown as Promise<Reply>;
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
