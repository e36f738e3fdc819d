import { isCluster, type RedisClient } from './redis-connections.js';
import { type RunningTimeout, runningTimeout } from '../common/running-time.js';

export type Reply = string | number | null | Reply[];

/** How long a presence command may take before the caller gets an error (a stalled Redis). */
const PRESENCE_DEADLINE_MS = 2000;

/**
 * Rejects if `promise` has not settled within `ms`. node-redis's command timeout stops once
 * a command is written, so a Redis that stalls (SIGSTOP, a partition with no reset) would
 * otherwise hold the caller until TCP gives up. A late failure of `promise` stays handled.
 * The deadline counts this process's running time (`runningTimeout`): a stall of its own
 * does not fail a command Redis answered in time.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: RunningTimeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = runningTimeout(() => {
      const error = new Error(`${what} got no answer from Redis within ${ms} ms`);
      error.name = 'TimeoutError';
      reject(error);
    }, ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => timer?.cancel());
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

/**
 * A Lua script, sent whole with EVAL each time. EVALSHA would save the bytes, but after a
 * Redis restart its NOSCRIPT retry lands a round trip late, behind commands sent after it:
 * presence writes and history appends must keep their order. For the append that is about
 * 700 bytes more per message on a local connection, measured in docs/PERFORMANCE.md.
 */
export class Script {
  constructor(private readonly source: string) {}

  run(client: RedisClient, keys: string[], args: string[]): Promise<Reply> {
    return execute(client, keys[0], ['EVAL', this.source, String(keys.length), ...keys, ...args]);
  }
}
