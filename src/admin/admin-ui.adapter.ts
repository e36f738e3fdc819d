import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { INestApplication } from '@nestjs/common';
import type { Server, ServerOptions } from 'socket.io';
import type { RedisConnections } from '../cluster/redis-connections.js';
import type { AppConfig } from '../config/app-config.js';
import {
  type RealtimeAdapterDeps,
  RealtimeIoAdapter,
} from '../socket-server/realtime-io.adapter.js';
import { ADMIN_NAMESPACE, withAdminAdmission } from './admin-admission.js';
import {
  ADMIN_SESSION_S,
  type AdminSessions,
  MemorySessions,
  RedisSessions,
  sessionPrefix,
} from './admin-sessions.js';
import { ADMIN_UI_PATH, serveAdminUi } from './admin-ui-files.js';
import { resendSessionOnConnect } from './session-handoff.js';
import { withIntervalsCaught } from '../compat/admin-ui.js';

type AdminUiConfig = NonNullable<AppConfig['adminUi']>;

/** Instruments a server; the returned function stops what it started. */
type Instrumentation = (server: Server) => () => void;

/**
 * The socket server with the Socket.IO admin UI on it. The server exists only once NestJS
 * has it built (in `app.init()`, after `setupApp`), so it is instrumented here, at once,
 * before any gateway's namespace; the UI's stats timer stops in `dispose()`, after the
 * servers closed and before the Redis clients do.
 */
export class AdminUiIoAdapter extends RealtimeIoAdapter {
  private stop: (() => void) | undefined;

  constructor(
    app: INestApplication,
    deps: RealtimeAdapterDeps,
    private readonly instrumentation: Instrumentation,
  ) {
    super(app, deps);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options);
    this.stop = this.instrumentation(server);
    return server;
  }

  override async dispose(): Promise<void> {
    this.stop?.();
    await super.dispose();
  }
}

/**
 * Loads `@socket.io/admin-ui` (only here: with the UI off it is never imported), serves its
 * page at `/admin` and returns the adapter that instruments the socket server.
 */
export async function createAdminUiAdapter(
  app: INestApplication,
  deps: RealtimeAdapterDeps,
  admin: AdminUiConfig,
  redis: RedisConnections | null,
): Promise<RealtimeIoAdapter> {
  const { instrument } = await import('@socket.io/admin-ui');
  const sessions: AdminSessions = redis
    ? new RedisSessions(
        redis.command,
        sessionPrefix(admin.user, admin.passwordHash),
        ADMIN_SESSION_S,
        (error) => redis.errors.report('admin-ui-sessions', error),
      )
    : new MemorySessions(ADMIN_SESSION_S);
  // Unique per process and per app: the UI lists servers by this id, and several instances
  // may share a host and a pid (tests start them in one process).
  const serverId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const instrumentation: Instrumentation = (server) => {
    resendSessionOnConnect(server.of(ADMIN_NAMESPACE));
    const { intervals } = withIntervalsCaught(() =>
      instrument(server, {
        auth: { type: 'basic', username: admin.user, password: admin.passwordHash },
        // Explicit: the package's default follows NODE_ENV, and "development" keeps every
        // socket's details and sends every event of every socket to the UI.
        mode: 'production',
        readonly: admin.readonly,
        namespaceName: ADMIN_NAMESPACE,
        serverId,
        store: sessions,
      }),
    );
    return () => intervals.forEach((interval) => clearInterval(interval));
  };
  serveAdminUi(app, { websocketOnly: !deps.config.ws.transports.includes('polling') });
  deps.logger.info(
    {
      path: ADMIN_UI_PATH,
      readonly: admin.readonly,
      serverId,
      sessions: redis ? 'redis' : 'memory',
    },
    'admin UI on',
  );
  const authenticator = withAdminAdmission(deps.authenticator, {
    user: admin.user,
    sessionS: ADMIN_SESSION_S,
  });
  return new AdminUiIoAdapter(app, { ...deps, authenticator }, instrumentation);
}
