import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import type { GatewaySubscriber } from '../../compat/nest-websockets.js';
import { type DispatcherOptions, NamespaceDispatcher } from './namespace-dispatcher.js';

/**
 * The dispatchers of one server: one per namespace for the gateways NestJS routes here
 * (their handler table is shared by every socket), and one per socket for handlers NestJS
 * bound to a socket on its stock path.
 */
export class Dispatchers {
  private readonly byNamespace = new Map<string, NamespaceDispatcher>();
  private readonly bySocket = new WeakMap<Socket, NamespaceDispatcher>();

  constructor(private readonly options: DispatcherOptions) {}

  /** Starts dispatching a gateway's events for a socket that joined its namespace. */
  attachGateway(socket: Socket, instance: object, subscribers: readonly GatewaySubscriber[]): void {
    const namespace = socket.nsp.name;
    let dispatcher = this.byNamespace.get(namespace);
    if (!dispatcher) {
      dispatcher = new NamespaceDispatcher(namespace, this.options);
      this.byNamespace.set(namespace, dispatcher);
    }
    dispatcher.addGateway(instance, subscribers);
    dispatcher.attach(socket);
  }

  /** NestJS's stock path: handlers bound to this one socket. */
  attachBound(socket: Socket, handlers: readonly MessageMappingProperties[]): void {
    let dispatcher = this.bySocket.get(socket);
    if (!dispatcher) {
      dispatcher = new NamespaceDispatcher(socket.nsp.name, this.options);
      this.bySocket.set(socket, dispatcher);
    }
    dispatcher.addBound(handlers);
    dispatcher.attach(socket);
  }

  /** False where no gateway of the namespace has `handleDisconnect`: NestJS needs no hook. */
  needsDisconnectHook(namespace: string): boolean {
    return this.byNamespace.get(namespace)?.needsDisconnectHook !== false;
  }

  /** Per event of `namespace`: called directly, or through NestJS's per-message context. */
  handlerPaths(namespace: string): { direct: string[]; nest: string[] } | undefined {
    return this.byNamespace.get(namespace)?.handlerPaths();
  }

  /** Whether gateways of `namespace` are served by the shared table (the fast path). */
  routes(namespace: string): boolean {
    return this.byNamespace.has(namespace);
  }
}
