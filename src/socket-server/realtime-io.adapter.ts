import type { Server as HttpServer } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { type Namespace, Server, type ServerOptions, type Socket } from 'socket.io';
import type { HandshakeAuthenticator } from '../auth/handshake-authenticator.js';
import {
  attachDirectHandlers,
  type GatewaySubscriber,
  routeGatewayHandlers,
} from '../compat/nest-websockets.js';
import type { EngineConnection } from '../compat/socket-io.js';
import type { AppConfig } from '../config/app-config.js';
import { PayloadValidationPipe } from '../gateway/payload-validation.pipe.js';
import type { ReadinessService } from '../health/readiness.service.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { ConnectionTracker } from './connection/connection-tracker.js';
import { watchSlowConsumers } from './connection/engine-connections.js';
import { releaseHandshakeRequest } from './connection/handshake-release.js';
import type { SocketServerRef } from './connection/socket-server-ref.js';
import { UserConnectionCap } from './connection/user-connection-cap.js';
import { Dispatchers } from './dispatch/dispatchers.js';
import type { HandshakeCheck } from './handshake/engine-gate.js';
import { HandshakeGate } from './handshake/handshake-gate.js';
import { NamespaceAdmission } from './handshake/namespace-admission.js';
import { SOCKET_IO_PATH, socketServerOptions } from './server-options.js';

/**
 * What a cluster adds to the server: the adapter of every namespace (and connection state
 * recovery, with streams), a hook on every new socket, and its clients to close last.
 */
export interface ServerExtension {
  readonly serverOptions: Partial<Pick<ServerOptions, 'adapter' | 'connectionStateRecovery'>>;
  readonly onConnection: (socket: Socket) => void;
  close(): Promise<void>;
}

export interface RealtimeAdapterDeps {
  readonly config: AppConfig;
  readonly authenticator: HandshakeAuthenticator;
  readonly metrics: MetricsService;
  readonly logger: Logger;
  /** Where the shutdown sequence finds the server to drain. */
  readonly serverRef?: SocketServerRef;
  /** While it says draining, new handshakes get 503. */
  readonly readiness?: ReadinessService;
  /** With `REDIS_URL`: the cluster adapter, closed in `dispose()`. */
  readonly cluster?: ServerExtension;
  /**
   * False keeps NestJS's stock path (handlers bound to every socket) instead of one handler
   * table per namespace: slower and heavier, for comparison or to rule the fast path out.
   */
  readonly routeGateways?: boolean;
}

/**
 * The one owner of the Socket.IO server under every gateway. It composes:
 * - the server options (`server-options.ts`): only the first gateway on a port creates the
 *   server, so they are set here, never on a gateway;
 * - the handshake (`handshake/`): the HTTP gate before engine.io, and every namespace's
 *   middleware, `/` included;
 * - the connections (`connection/`): logs, metrics, caps, token expiry, slow consumers;
 * - the dispatch (`dispatch/`): one handler table per namespace, reached through NestJS's
 *   `subscribeMessages` (see `compat/nest-websockets.ts`), with NestJS's stock path kept.
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly gate: HandshakeGate;
  private readonly admission: NamespaceAdmission;
  private readonly connections: ConnectionTracker;
  private readonly dispatchers: Dispatchers;

  constructor(
    app: INestApplication,
    private readonly deps: RealtimeAdapterDeps,
  ) {
    super(app);
    const { config, metrics, logger, authenticator, cluster } = deps;
    // Still correct without it, only slower: said once, loudly, rather than found in a profile.
    if (!routeGatewayHandlers(routeToRealtimeAdapter))
      logger.warn(
        'NestJS no longer has the method the shared handler tables replace: every gateway runs on the stock path (run npm run test:compat)',
      );
    // Handlers with no enhancer but the payload schema skip NestJS's per-message promises.
    if (!attachDirectHandlers((pipe) => pipe instanceof PayloadValidationPipe))
      logger.warn(
        "NestJS no longer has the method the direct handler calls read: every handler runs through NestJS's per-message context (run npm run test:compat)",
      );
    const userCap = new UserConnectionCap(config.ws.maxConnectionsPerUser);
    this.gate = new HandshakeGate(deps);
    this.admission = new NamespaceAdmission({ authenticator, userCap, metrics, logger });
    this.connections = new ConnectionTracker({
      userCap,
      metrics,
      logger,
      onConnection: cluster?.onConnection,
    });
    this.dispatchers = new Dispatchers({ metrics, logger, rateLimit: config.ws.rateLimit });
  }

  /** Adds a handshake check (before the token's); it applies to the next handshakes. */
  addHandshakeCheck(check: HandshakeCheck): void {
    this.gate.add(check);
  }

  /** Whether gateways go to the shared handler tables (`routeGateways`, on by default). */
  get routesGateways(): boolean {
    return this.deps.routeGateways !== false;
  }

  /**
   * Per event of `namespace` (once a socket joined it): handlers called directly, and those
   * that go through NestJS's per-message context because a guard, interceptor or pipe applies.
   */
  handlerPaths(namespace: string): { direct: string[]; nest: string[] } | undefined {
    return this.dispatchers.handlerPaths(namespace);
  }

  /** Whether `namespace`'s gateways are served by one shared handler table (the fast path). */
  routesNamespace(namespace: string): boolean {
    return this.dispatchers.routes(namespace);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    if (port !== 0)
      throw new Error(
        `A gateway asked for a port of its own (${port}): every gateway here shares the app's ` +
          'HTTP server, its handshake checks and its drain. Use @RealtimeGateway(namespace).',
      );
    const server: Server = super.createIOServer(0, {
      ...options,
      ...socketServerOptions(this.deps.config),
      ...this.deps.cluster?.serverOptions,
    } as ServerOptions);
    if (this.deps.serverRef) this.deps.serverRef.server = server;
    const httpServer = this.httpServer as HttpServer | undefined;
    if (httpServer) this.gate.install(server, httpServer, `${SOCKET_IO_PATH}/`);
    watchSlowConsumers(server, this.deps);
    const { authenticator } = this.deps;
    server.engine.on('connection', (conn: EngineConnection) =>
      releaseHandshakeRequest(conn, (from, to) => authenticator.carryOver(from, to)),
    );
    this.prepareNamespace(server.of('/'));
    server.on('new_namespace', (namespace: Namespace) => this.prepareNamespace(namespace));
    return server;
  }

  /** NestJS calls this once per gateway, with its namespace (or the server, for `/`). */
  override bindClientConnect(
    server: Server | Namespace,
    callback: (...args: unknown[]) => void,
  ): void {
    this.admission.serve(server instanceof Server ? '/' : server.name);
    super.bindClientConnect(server, callback);
  }

  /**
   * NestJS hands every socket a closure for its gateways' `handleDisconnect` (in a `once`
   * wrapper: four objects per socket). Where no gateway of the namespace has one, nothing
   * would be called: no listener.
   */
  override bindClientDisconnect(socket: Socket, callback: (reason: string) => void): void {
    if (!this.dispatchers.needsDisconnectHook(socket.nsp.name)) return;
    // `disconnect` fires once per socket: `on`, without `once`'s per-call wrapper.
    socket.on('disconnect', callback);
  }

  /** NestJS's stock path, with handlers bound to this socket: a dispatcher of its own. */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    this.dispatchers.attachBound(socket, handlers);
  }

  /** The fast path: a gateway's own handler list, for a socket that joined its namespace. */
  bindGateway(socket: Socket, instance: object, subscribers: readonly GatewaySubscriber[]): void {
    this.dispatchers.attachGateway(socket, instance, subscribers);
  }

  /** Runs after every Socket.IO server closed: the cluster's Redis clients go last. */
  override async dispose(): Promise<void> {
    await this.deps.cluster?.close();
  }

  private prepareNamespace(namespace: Namespace): void {
    this.admission.guard(namespace);
    this.connections.track(namespace);
  }
}

function routeToRealtimeAdapter(
  adapter: unknown,
  client: unknown,
  instance: object,
  subscribers: readonly GatewaySubscriber[],
): boolean {
  if (!(adapter instanceof RealtimeIoAdapter) || !adapter.routesGateways) return false;
  adapter.bindGateway(client as Socket, instance, subscribers);
  return true;
}
