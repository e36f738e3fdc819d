import {
  createAdapter as createPubSubAdapter,
  createShardedAdapter,
} from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import type { Namespace, ServerOptions, Socket } from 'socket.io';
import type { RedisAdapterKind } from '../config/app-config.js';
import { guardAdapterClient } from './guarded-client.js';
import type { RedisConnections } from './redis-connections.js';
import type { ReaderProgress } from './stream-order.js';
import { StreamsRecoveryCatchUp } from './streams-recovery.js';

/** The key (channel prefix) of the classic adapter; `@socket.io/redis-emitter` defaults to it. */
export const CLASSIC_ADAPTER_KEY = 'socket.io';
const STREAM_NAME = 'socket.io-stream';

type AdapterFactory = (nsp: Namespace) => object;

export interface ClusterSetup {
  /** Goes into the server options: the adapter of every namespace, and recovery if any. */
  readonly serverOptions: Partial<Pick<ServerOptions, 'adapter' | 'connectionStateRecovery'>>;
  /** Runs in every namespace's `connection` listener. */
  readonly onConnection: (socket: Socket) => void;
  /** Closes every Redis client; call after the Socket.IO servers closed. */
  close(): Promise<void>;
}

/**
 * Builds the Socket.IO adapter for `REDIS_ADAPTER`. Namespaces listed in `classicNamespaces`
 * keep the classic pub/sub adapter whatever the kind: `@socket.io/redis-emitter` only speaks
 * its format, and the contract lets any process notify users through it.
 */
export async function createClusterSetup(
  redis: RedisConnections,
  kind: RedisAdapterKind,
  classicNamespaces: readonly string[],
): Promise<ClusterSetup> {
  const guard = <T extends object>(client: T): T =>
    guardAdapterClient(client, {
      onError: (error) => {
        redis.watch.adapterWriteFailed();
        redis.errors.report('adapter-command', error);
      },
      onDuplicate: (duplicate) => redis.adopt(duplicate, 'adapter-duplicate'),
    });
  const pub = guard(redis.command);
  const classicSub = guard(await redis.duplicate('pubsub-subscriber', { subscriber: true }));
  const classic = createPubSubAdapter(pub, classicSub, {
    key: CLASSIC_ADAPTER_KEY,
    requestsTimeout: 5000,
  });
  // One per namespace: its log and its recovering sockets never mix with another's.
  const catchUps = new Map<string, StreamsRecoveryCatchUp>();
  let main: AdapterFactory;
  switch (kind) {
    case 'pubsub':
      main = classic;
      break;
    case 'sharded':
      main = createShardedAdapter(
        pub,
        guard(await redis.duplicate('sharded-subscriber', { subscriber: true })),
        {
          channelPrefix: CLASSIC_ADAPTER_KEY,
          subscriptionMode: 'dynamic',
        },
      );
      break;
    case 'streams': {
      // XREAD blocks below the 5 s command timeout, so a quiet stream never times out.
      const streams = createStreamsAdapter(pub, {
        streamName: STREAM_NAME,
        maxLen: 10_000,
        blockTimeInMs: 2000,
      });
      const progress: ReaderProgress = { at: performance.now() };
      main = (nsp) => {
        const catchUp = new StreamsRecoveryCatchUp(progress, (error) =>
          redis.errors.report('stream-delivery', error, 'a stream entry failed to deliver'),
        );
        catchUps.set(nsp.name, catchUp);
        return catchUp.patch(streams(nsp));
      };
      break;
    }
    default: {
      const unreachable: never = kind;
      throw new Error(`unknown REDIS_ADAPTER ${String(unreachable)}`);
    }
  }
  // Socket.IO calls the adapter with `new`: a plain function returning the instance works.
  const adapter = function (this: unknown, nsp: Namespace): object {
    return classicNamespaces.includes(nsp.name) ? classic(nsp) : main(nsp);
  };
  return {
    serverOptions: {
      adapter: adapter as unknown as ServerOptions['adapter'],
      // Recovery needs a stream to replay from: only the streams adapter has one. The
      // middlewares (authentication) still run for a recovered socket.
      ...(kind === 'streams'
        ? {
            connectionStateRecovery: {
              maxDisconnectionDuration: 2 * 60_000,
              skipMiddlewares: false,
            },
          }
        : {}),
    },
    onConnection: (socket) => catchUps.get(socket.nsp.name)?.onConnection(socket),
    close: () => redis.close(),
  };
}
