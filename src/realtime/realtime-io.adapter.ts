import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { type Namespace, Server, type ServerOptions, type Socket } from 'socket.io';
import type { AuthUser } from '../auth/auth-user.js';
import { HandshakeAuthenticator } from '../auth/handshake-authenticator.js';
import type { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { engineClients } from './engine-clients.js';
import { installEngineGate, type HandshakeCheck, type Refusal } from './engine-gate.js';
import { corsOrigin, isAllowedOrigin } from './origin-policy.js';
import { connectionCapCheck, originCheck, UserConnectionCap } from './protection.js';
import { TokenExpiry } from './token-expiry.js';
import { type GatewaySubscriber, NamespaceDispatcher } from './socket-dispatcher.js';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import { type ClusterSetup, createClusterSetup } from './cluster-adapter.js';
import type { RedisConnections } from '../redis/redis-connections.js';
import type { ReadinessService } from '../health/readiness.service.js';
import type { RealtimeServerRef } from '../lifecycle/drainer.js';

export const SOCKET_IO_PATH = '/socket.io';

type RefusalError = Error & { data?: { reason?: string } };

const DRAINING_REFUSAL: Refusal = {
  status: 503,
  code: 'UNAVAILABLE',
  reason: 'draining',
  message: 'this instance is shutting down; retry',
  headers: { 'Retry-After': '1' },
};

/** A draining instance's answer to a session it does not hold: retry where it is. */
const FOREIGN_SESSION_REFUSAL: Refusal = {
  ...DRAINING_REFUSAL,
  reason: 'draining_foreign_session',
  message: 'this instance is shutting down and does not hold this session; retry',
};

/** socket.io's Client keeps its connected namespace sockets here (gone before `disconnect`). */
interface ClientView {
  readonly sockets: ReadonlyMap<string, Socket>;
}

/** What the slow-consumer watch reads of an engine.io connection (internal fields). */
interface EngineClientView {
  readonly id: string;
  readonly remoteAddress: string;
  readonly writeBuffer: readonly unknown[];
  /** On WebSocket, `ws`'s bytes handed over but not yet sent. */
  readonly transport: { readonly socket?: { readonly bufferedAmount?: number } };
  close(discard?: boolean): void;
}

/** What a connection may have waiting to be sent before it counts as a slow consumer. */
export const MAX_BUFFERED_PACKETS = 1000;
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface RealtimeAdapterDeps {
  readonly config: AppConfig;
  /** Set when `REDIS_URL` is: the adapter then joins the cluster and closes these last. */
  readonly redis?: RedisConnections;
  /** Where the shutdown sequence finds the server to drain. */
  readonly serverRef?: RealtimeServerRef;
  /** While it says draining, new handshakes get 503. */
  readonly readiness?: ReadinessService;
  /** Namespaces that keep the classic Redis adapter (for `@socket.io/redis-emitter`). */
  readonly classicNamespaces?: readonly string[];
  readonly authenticator: HandshakeAuthenticator;
  readonly metrics: MetricsService;
  readonly logger: Logger;
}

/**
 * The one owner of the Socket.IO server for every gateway:
 * - server options (CORS, heartbeat, payload bound, transports) are set here, because only
 *   the first gateway on a port creates the server and the others' options are ignored;
 * - the handshake checks stand in front of engine.io (`installEngineGate`) and the auth
 *   middleware is registered on every namespace as it is created, `/` included;
 * - every namespace gets connection logs, metrics and token-expiry disconnects;
 * - message handlers are dispatched by one `NamespaceDispatcher` per namespace (rate limit,
 *   unknown events, acks, metrics), which NestJS reaches through `bindGateway`;
 * - with Redis, the cluster adapter of `REDIS_ADAPTER` goes into the server options
 *   (`prepareCluster`), and its clients are closed in `dispose()`, after the servers.
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly dispatchers = new Map<string, NamespaceDispatcher>();
  /** Namespaces a gateway serves. */
  private readonly servedNamespaces = new Set<string>();
  /** Only used if NestJS's `subscribeMessages` could not be replaced (see below). */
  private readonly boundDispatchers = new WeakMap<Socket, NamespaceDispatcher>();
  private cluster: ClusterSetup | undefined;
  private readonly userCap: UserConnectionCap;
  /** Run in order on every new handshake, read live; authentication stays last. */
  private readonly handshakeChecks: HandshakeCheck[] = [(req) => this.authenticate(req)];

  /**
   * One function for every socket's `disconnect` (EventEmitter calls it with the socket as
   * `this`): a closure per socket, and `once`'s wrapper, cost memory on every connection.
   */
  private readonly onSocketDisconnect: (this: Socket, reason: string) => void;
  private readonly tokenExpiry = new TokenExpiry((socket) =>
    this.deps.logger.info(
      {
        namespace: socket.nsp.name,
        socketId: socket.id,
        userId: userOf(socket).id,
      },
      'token expired',
    ),
  );

  constructor(
    app: INestApplication,
    private readonly deps: RealtimeAdapterDeps,
  ) {
    super(app);
    routeGatewaysThroughAdapter();
    this.userCap = new UserConnectionCap(deps.config.ws.maxConnectionsPerUser);
    const { metrics, logger } = deps;
    const { tokenExpiry, userCap } = this;
    this.onSocketDisconnect = function (this: Socket, reason: string) {
      const user = userOf(this);
      tokenExpiry.untrack(this, user.expiresAt);
      // A connection counts for a user while any of its namespaces is connected as that
      // user (one connection can carry two users: a client that switched accounts).
      const { sockets } = this.client as unknown as ClientView;
      if (![...sockets.values()].some((other) => userOf(other).id === user.id))
        userCap.remove(user.id, this.conn);
      metrics.disconnections.labels(this.nsp.name, reason).inc();
      logger.info(
        {
          event: 'disconnected',
          namespace: this.nsp.name,
          socketId: this.id,
          userId: user.id,
          reason,
          durationMs: Date.now() - this.handshake.issued,
        },
        'socket disconnected',
      );
    };
  }

  /** Adds a handshake check (draining, connection caps, origin) ahead of authentication. */
  addHandshakeCheck(check: HandshakeCheck): void {
    this.handshakeChecks.splice(this.handshakeChecks.length - 1, 0, check);
  }

  /** With Redis configured, builds the cluster adapter; call before the app initialises. */
  async prepareCluster(): Promise<void> {
    const { redis, config, classicNamespaces = [] } = this.deps;
    if (redis && config.redis) {
      this.cluster = await createClusterSetup(redis, config.redis.adapter, classicNamespaces);
    }
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, {
      ...options,
      ...this.serverOptions(),
      ...this.cluster?.serverOptions,
    } as ServerOptions);
    const { ws, http } = this.deps.config;
    if (this.deps.serverRef) this.deps.serverRef.server = server;
    const readiness = this.deps.readiness;
    if (readiness)
      this.addHandshakeCheck(() =>
        readiness.current === 'draining' ? DRAINING_REFUSAL : undefined,
      );
    this.addHandshakeCheck(originCheck(http.corsOrigins));
    this.addHandshakeCheck(connectionCapCheck(server, ws.maxConnections));
    this.watchSlowConsumers(server);
    server.engine.on('connection', releaseRawHeaders);
    const httpServer = this.httpServer as HttpServer | undefined;
    if (httpServer) {
      installEngineGate(httpServer, {
        path: `${SOCKET_IO_PATH}/`,
        checks: this.handshakeChecks,
        // A proxy's hash can send another instance's session here (nginx `ip_hash` once
        // this instance's `fail_timeout` ran out): 503 lets it retry where the session is.
        sessionCheck: (sid) =>
          readiness?.current === 'draining' && !Object.hasOwn(engineClients(server), sid)
            ? FOREIGN_SESSION_REFUSAL
            : undefined,
        corsHeaders: (req) => this.corsHeaders(req),
        onRefused: (req, refusal) => this.onRefused(req, refusal),
        onError: (error) => this.deps.logger.error({ err: error }, 'handshake check failed'),
      });
    }
    this.prepareNamespace(server.of('/'));
    server.on('new_namespace', (namespace: Namespace) => this.prepareNamespace(namespace));
    return server;
  }

  /** NestJS calls this once per gateway, with its namespace (or the server, for `/`). */
  override bindClientConnect(
    server: Server | Namespace,
    callback: (...args: unknown[]) => void,
  ): void {
    this.servedNamespaces.add(server instanceof Server ? '/' : server.name);
    super.bindClientConnect(server, callback);
  }

  /** Starts dispatching a gateway's events for a socket that joined its namespace. */
  bindGateway(socket: Socket, instance: object, subscribers: readonly GatewaySubscriber[]): void {
    const dispatcher = this.dispatcherOf(socket.nsp.name);
    dispatcher.addGateway(instance, subscribers);
    dispatcher.attach(socket);
  }

  /**
   * NestJS hands every socket a closure for its gateways' `handleDisconnect` (in a `once`
   * wrapper: four objects per socket). Where no gateway of the namespace has one, nothing
   * would be called: no listener.
   */
  override bindClientDisconnect(socket: Socket, callback: (reason: string) => void): void {
    if (this.dispatchers.get(socket.nsp.name)?.needsDisconnectHook === false) return;
    // `disconnect` fires once per socket: `on`, without `once`'s per-call wrapper.
    socket.on('disconnect', callback);
  }

  /** NestJS's stock path, with handlers bound to this socket: a dispatcher of its own. */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    let dispatcher = this.boundDispatchers.get(socket);
    if (!dispatcher) {
      dispatcher = this.newDispatcher(socket.nsp.name);
      this.boundDispatchers.set(socket, dispatcher);
    }
    dispatcher.addBound(handlers);
    dispatcher.attach(socket);
  }

  private dispatcherOf(namespace: string): NamespaceDispatcher {
    let dispatcher = this.dispatchers.get(namespace);
    if (!dispatcher) {
      dispatcher = this.newDispatcher(namespace);
      this.dispatchers.set(namespace, dispatcher);
    }
    return dispatcher;
  }

  private newDispatcher(namespace: string): NamespaceDispatcher {
    return new NamespaceDispatcher(namespace, {
      metrics: this.deps.metrics,
      logger: this.deps.logger,
      rateLimit: this.deps.config.ws.rateLimit,
    });
  }

  /** Runs after every Socket.IO server closed: the Redis clients go last. */
  override async dispose(): Promise<void> {
    await this.deps.redis?.close();
  }

  private serverOptions(): Partial<ServerOptions> {
    const { ws, http } = this.deps.config;
    return {
      path: SOCKET_IO_PATH,
      serveClient: false,
      transports: [...ws.transports],
      pingInterval: ws.pingIntervalMs,
      pingTimeout: ws.pingTimeoutMs,
      maxHttpBufferSize: ws.maxPayloadBytes,
      cors: { origin: corsOrigin(http.corsOrigins), credentials: true },
      // An engine.io connection that joins no namespace (no auth, then) is closed after this.
      connectTimeout: ws.connectTimeoutMs,
    };
  }

  private prepareNamespace(namespace: Namespace): void {
    const { metrics, logger } = this.deps;
    namespace.use((socket, next) =>
      this.deps.authenticator.middleware(socket, (authError?: RefusalError) => {
        const error = authError ?? this.unservedError(namespace) ?? this.userCapError(socket);
        if (error) this.onNamespaceRefused(namespace, error);
        next(error);
      }),
    );
    metrics.trackNamespace(namespace.name, () => namespace.sockets.size);
    namespace.on('connection', (socket: Socket) => {
      this.cluster?.onConnection(socket);
      const user = userOf(socket);
      this.userCap.add(user.id, socket.conn);
      metrics.connectionsOpened.labels(namespace.name).inc();
      logger.info(
        {
          event: 'connected',
          namespace: namespace.name,
          socketId: socket.id,
          userId: user.id,
          transport: socket.conn.transport.name,
        },
        'socket connected',
      );
      // `disconnect` fires once per socket: `on`, without `once`'s per-call wrapper.
      socket.on('disconnect', this.onSocketDisconnect);
      this.tokenExpiry.track(socket, user.expiresAt);
    });
  }

  private async authenticate(req: IncomingMessage): Promise<Refusal | undefined> {
    const failure = await this.deps.authenticator.checkRequest(req);
    if (!failure) return undefined;
    return { status: 401, code: 'UNAUTHORIZED', reason: failure.reason, message: 'unauthorized' };
  }

  /**
   * Socket.IO always has the main namespace `/`, and socket.io-client connects there when a
   * URL names no namespace: with no gateway at `/`, such a client would be connected and
   * never answered. It is refused the way Socket.IO refuses any namespace nobody serves.
   */
  private unservedError(namespace: Namespace): RefusalError | undefined {
    if (namespace.name !== '/' || this.servedNamespaces.has('/')) return undefined;
    const data = { code: 'INVALID_NAMESPACE', reason: 'no_gateway' };
    return Object.assign(new Error('Invalid namespace'), { data });
  }

  /** `connect_error` code `TOO_MANY_CONNECTIONS` past `WS_MAX_CONNECTIONS_PER_USER`. */
  private userCapError(socket: Socket): RefusalError | undefined {
    const user = userOf(socket);
    if (this.userCap.admits(user.id, socket.conn)) return undefined;
    const data = { code: 'TOO_MANY_CONNECTIONS', reason: 'too_many_connections' };
    return Object.assign(new Error('too many connections'), { data });
  }

  /**
   * engine.io buffers without bound what a client does not read (a stalled reader on
   * WebSocket, a polling client that never GETs). Once a second, a connection holding more
   * than `MAX_BUFFERED_PACKETS` packets in engine.io's buffer, or `MAX_BUFFERED_BYTES` in the
   * WebSocket's, is closed, discarding them.
   */
  private watchSlowConsumers(server: Server): void {
    const timer = setInterval(() => {
      const clients = Object.values(engineClients(server)) as unknown as EngineClientView[];
      for (const client of clients) {
        const bytes = client.transport.socket?.bufferedAmount ?? 0;
        if (client.writeBuffer.length <= MAX_BUFFERED_PACKETS && bytes <= MAX_BUFFERED_BYTES)
          continue;
        this.deps.metrics.slowConsumers.inc();
        this.deps.logger.warn(
          {
            engineId: client.id,
            packets: client.writeBuffer.length,
            bytes,
            ip: client.remoteAddress,
          },
          'closing a connection that does not read what it is sent',
        );
        client.close(true);
      }
    }, 1000);
    timer.unref();
    server.engine.once('close', () => clearInterval(timer));
  }

  private onNamespaceRefused(namespace: Namespace, error: RefusalError): void {
    const reason = error.data?.reason ?? 'unknown';
    this.deps.metrics.connectionsRefused.labels(reason).inc();
    this.deps.logger.info(
      { event: 'refused', namespace: namespace.name, reason },
      'connection refused',
    );
  }

  private onRefused(req: IncomingMessage, refusal: Refusal): void {
    this.deps.metrics.connectionsRefused.labels(refusal.reason).inc();
    // Not a handshake: a request of a session this draining instance does not hold (one it
    // just let go, or another instance's); counted, and logged only at debug level.
    if (refusal === FOREIGN_SESSION_REFUSAL) {
      this.deps.logger.debug(
        { event: 'session_refused', status: refusal.status, reason: refusal.reason },
        'request for a session not held here refused while draining',
      );
      return;
    }
    this.deps.logger.info(
      {
        event: 'refused',
        status: refusal.status,
        reason: refusal.reason,
        ip: req.socket.remoteAddress,
      },
      'handshake refused',
    );
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined || !isAllowedOrigin(origin, this.deps.config.http.corsOrigins))
      return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    };
  }
}

const ROUTED = Symbol('routed through RealtimeIoAdapter');

/** What of NestJS's `WebSocketsController` the replacement below touches. */
interface ControllerView {
  readonly config: { getIoAdapter(): unknown };
  subscribeMessages(subscribers: GatewaySubscriber[], client: unknown, instance: object): void;
}

/**
 * NestJS binds every handler of a gateway to every client (`callback.bind(instance, client)`
 * in `WebSocketsController.subscribeMessages`), and hands the adapter those bound functions:
 * four handlers cost four bound functions, their objects and a map on every connection. With
 * this adapter, the gateway's own handler list goes to `bindGateway` instead: one table per
 * namespace, the socket passed at dispatch. Any other adapter gets NestJS's stock path; so
 * would this one, through `bindMessageHandlers`, should a NestJS release rename the method.
 */
function routeGatewaysThroughAdapter(): void {
  const controller = WebSocketsController.prototype as unknown as ControllerView;
  const stock = controller.subscribeMessages as ControllerView['subscribeMessages'] | undefined;
  if (typeof stock !== 'function' || ROUTED in stock) return;
  const routed: ControllerView['subscribeMessages'] = function (
    this: ControllerView,
    subscribers,
    client,
    instance,
  ) {
    const adapter = this.config.getIoAdapter();
    if (adapter instanceof RealtimeIoAdapter)
      adapter.bindGateway(client as Socket, instance, subscribers);
    else stock.call(this, subscribers, client, instance);
  };
  controller.subscribeMessages = Object.assign(routed, { [ROUTED]: true });
}

const NO_RAW_HEADERS: string[] = [];

/**
 * A connection keeps its handshake request for its whole life (engine.io holds it, and a
 * listener on the TCP socket too). Its headers stay readable (`socket.handshake.headers`);
 * the raw list they were parsed from, names in their original case, is dropped.
 */
function releaseRawHeaders(conn: { request: IncomingMessage }): void {
  const { request } = conn;
  // Node parses `headers` from the raw list on first read; the handshake checks have read
  // them by now, and this makes sure.
  void request.headers;
  request.rawHeaders = NO_RAW_HEADERS;
}

function userOf(socket: Socket): AuthUser {
  return (socket.data as { user: AuthUser }).user;
}
