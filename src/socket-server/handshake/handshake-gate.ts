import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import type { HandshakeAuthenticator } from '../../auth/handshake-authenticator.js';
import { engineClients } from '../../compat/socket-io.js';
import type { AppConfig } from '../../config/app-config.js';
import type { ReadinessService } from '../../health/readiness.service.js';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { type HandshakeCheck, installEngineGate, type Refusal } from './engine-gate.js';
import {
  connectionCapCheck,
  drainingCheck,
  FOREIGN_SESSION_REFUSAL,
  originCheck,
  tokenCheck,
} from './handshake-checks.js';
import { isAllowedOrigin } from './origin-policy.js';

export interface HandshakeGateDeps {
  readonly config: AppConfig;
  readonly authenticator: HandshakeAuthenticator;
  readonly metrics: MetricsService;
  readonly logger: Logger;
  /** While it says draining, new handshakes get 503. */
  readonly readiness?: ReadinessService;
}

/**
 * The HTTP side of the handshake, before engine.io sees a request: draining, origin and the
 * connection cap, then the token carried by the request. Each refusal is counted and logged.
 */
export class HandshakeGate {
  /** Run in order on every new handshake, read live; the token check stays last. */
  private readonly checks: HandshakeCheck[];

  constructor(private readonly deps: HandshakeGateDeps) {
    this.checks = [tokenCheck(deps.authenticator)];
  }

  /** Adds a check ahead of the token check; it applies to the next handshakes. */
  add(check: HandshakeCheck): void {
    this.checks.splice(this.checks.length - 1, 0, check);
  }

  /** Puts the gate in front of `server`'s engine.io on the HTTP server. */
  install(server: Server, httpServer: HttpServer, path: string): void {
    const { config, readiness, logger } = this.deps;
    if (readiness) this.add(drainingCheck(readiness));
    this.add(originCheck(config.http.corsOrigins));
    this.add(connectionCapCheck(server, config.ws.maxConnections));
    installEngineGate(httpServer, {
      path,
      checks: this.checks,
      // A proxy's hash can send another instance's session here (nginx `ip_hash` once this
      // instance's `fail_timeout` ran out): 503 lets it retry where the session is.
      sessionCheck: (sid) =>
        readiness?.current === 'draining' && !Object.hasOwn(engineClients(server), sid)
          ? FOREIGN_SESSION_REFUSAL
          : undefined,
      corsHeaders: (req) => this.corsHeaders(req),
      onRefused: (req, refusal) => this.onRefused(req, refusal),
      onError: (error) => logger.error({ err: error }, 'handshake check failed'),
    });
  }

  private onRefused(req: IncomingMessage, refusal: Refusal): void {
    const { metrics, logger } = this.deps;
    metrics.connectionsRefused.labels(refusal.reason).inc();
    // Not a handshake: a request of a session this draining instance does not hold (one it
    // just let go, or another instance's); counted, and logged only at debug level.
    if (refusal === FOREIGN_SESSION_REFUSAL) {
      logger.debug(
        { event: 'session_refused', status: refusal.status, reason: refusal.reason },
        'request for a session not held here refused while draining',
      );
      return;
    }
    logger.info(
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
