import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { ChatService } from '../chat/chat.service.js';
import { REDIS } from '../cluster/cluster.module.js';
import type { RedisConnections } from '../cluster/redis-connections.js';
import { namespacesOf } from '../compat/socket-io.js';

/**
 * How long every other instance has to answer a cluster-wide request: the Redis adapters'
 * own request timeout (5 s by default) and a little more.
 */
export const CLUSTER_ANSWER_MS = 6000;

const Op = {
  RemoveMember: 'api:remove-member',
  DisconnectUser: 'api:disconnect-user',
  Stats: 'api:stats',
} as const;

export interface InstanceStats {
  readonly id: string;
  readonly connections: number;
}

type Reply<T> = (answer: T) => void;

/**
 * Requests that every instance carries out on its own sockets, through the adapter's
 * server-side events (`serverSideEmitWithAck`), on every REDIS_ADAPTER. An instance that does
 * not answer in time makes the request fail: a partial answer is never given as whole.
 */
@Injectable()
export class ClusterOps implements OnApplicationBootstrap {
  /** The host and process, and a random part: several instances may share a process. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly chat: ChatService,
    @Inject(REDIS) private readonly redis: RedisConnections | null,
  ) {}

  onApplicationBootstrap(): void {
    const namespace = this.chat.namespace as unknown as {
      on(event: string, listener: (...args: never[]) => void): void;
    };
    namespace.on(
      Op.RemoveMember,
      (userId: string, room: string, reason: string, reply: Reply<number>) =>
        void this.chat.removeHere(userId, room, reason).then(reply, () => reply(0)),
    );
    namespace.on(Op.DisconnectUser, (userId: string, reply: Reply<number>) =>
      reply(this.disconnectHere(userId)),
    );
    namespace.on(Op.Stats, (reply: Reply<InstanceStats>) => reply(this.statsHere()));
  }

  async removeMember(userId: string, room: string, reason: string): Promise<number> {
    const [here, others] = await Promise.all([
      this.chat.removeHere(userId, room, reason),
      this.askOthers<number>(Op.RemoveMember, userId, room, reason),
    ]);
    return here + others.reduce((sum, n) => sum + n, 0);
  }

  async disconnectUser(userId: string): Promise<number> {
    const others = await this.askOthers<number>(Op.DisconnectUser, userId);
    return this.disconnectHere(userId) + others.reduce((sum, n) => sum + n, 0);
  }

  /** Sockets in the room on every instance (the adapter asks them; 503 if one is silent). */
  async connectionsIn(room: string): Promise<number> {
    try {
      return (await this.chat.namespace.in(room).fetchSockets()).length;
    } catch {
      throw unavailable();
    }
  }

  async stats(): Promise<InstanceStats[]> {
    return [this.statsHere(), ...(await this.askOthers<InstanceStats>(Op.Stats))];
  }

  /** Every socket of the user here, in every namespace; each connection is closed. */
  private disconnectHere(userId: string): number {
    const sockets: Socket[] = [];
    for (const namespace of namespacesOf(this.server))
      for (const socket of namespace.sockets.values())
        if ((socket.data as { user?: { id: string } }).user?.id === userId) sockets.push(socket);
    for (const socket of sockets) socket.disconnect(true);
    return sockets.length;
  }

  private statsHere(): InstanceStats {
    return { id: this.instanceId, connections: this.server.engine.clientsCount };
  }

  private get server(): Server {
    return this.chat.namespace.server;
  }

  /** One instance alone (no Redis) has nobody to ask. */
  private async askOthers<T>(event: string, ...args: unknown[]): Promise<T[]> {
    if (!this.redis) return [];
    const namespace = this.chat.namespace as unknown as {
      serverSideEmitWithAck(event: string, ...args: unknown[]): Promise<T[]>;
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        namespace.serverSideEmitWithAck(event, ...args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer')), CLUSTER_ANSWER_MS);
        }),
      ]);
    } catch {
      throw unavailable();
    } finally {
      clearTimeout(timer);
    }
  }
}

function unavailable(): ServiceUnavailableException {
  return new ServiceUnavailableException({
    code: 'UNAVAILABLE',
    message: 'not every instance answered in time; try again',
  });
}
