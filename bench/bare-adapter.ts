/**
 * The Redis adapter of the bare reference, picked by `REDIS_ADAPTER` as the template picks
 * its own: `pubsub` (`createAdapter`), `sharded` (`createShardedAdapter`, SSUBSCRIBE and
 * SPUBLISH, which Redis 7 serves on a single node too) or `streams`
 * (`@socket.io/redis-streams-adapter`). Each is set up the way its README shows.
 */
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { Server } from 'socket.io';

export async function useRedisAdapter(io: Server, url: string, kind = 'pubsub'): Promise<void> {
  const pub = createClient({ url, RESP: 2 });
  pub.on('error', () => undefined);
  await pub.connect();
  if (kind === 'streams') {
    io.adapter(createStreamsAdapter(pub));
    return;
  }
  const sub = pub.duplicate();
  sub.on('error', () => undefined);
  await sub.connect();
  if (kind === 'sharded') io.adapter(createShardedAdapter(pub, sub));
  else if (kind === 'pubsub') io.adapter(createAdapter(pub, sub));
  else throw new Error(`REDIS_ADAPTER is one of pubsub, sharded, streams (got ${kind})`);
}
