import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { ChatEvent } from '../chat/chat.events.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { type EngineConnection, engineClients } from '../realtime/engine-clients.js';
import { DRAIN_TICK_MS, drainDelays, drainSpreadMs } from './drain-schedule.js';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Holds the Socket.IO server for the shutdown sequence; the adapter sets it when it builds it. */
@Injectable()
export class RealtimeServerRef {
  server: Server | undefined;
}

/**
 * Lets every connection go, spread over `SHUTDOWN_DRAIN_MS` less a reserve at its end
 * (`drainSpreadMs`), then waits out the window. Each socket is first told
 * `server:draining { reconnectInMs }`; then its underlying connection is closed, which a stock
 * socket.io client sees as "transport close" and answers by reconnecting with its backoff, to
 * another instance behind the load balancer. (`socket.disconnect(true)` would give "io server
 * disconnect", after which the client does not come back.) With the streams adapter the
 * session is kept, so the client recovers what it missed.
 *
 * Connections are taken from engine.io, not only from the namespaces, and looked for again on
 * every tick: a handshake that was past the draining check when the drain began, or a socket
 * still in the namespace middleware, is let go in the spread like the others. Ticks are timed
 * from the start, so a busy event loop delays a batch but never shifts the rest of the
 * schedule into the reserve.
 */
@Injectable()
export class Drainer {
  private draining = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ref: RealtimeServerRef,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  /** True from the start of the drain: the presence store keeps drained users (no flapping). */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Runs the drain once; later calls get the same promise. */
  drain(): Promise<void> {
    this.draining = true;
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    const server = this.ref.server;
    if (!server) return;
    const windowMs = this.config.shutdown.drainMs;
    const startedAt = Date.now();
    const lastTick = Math.floor(drainSpreadMs(windowMs) / DRAIN_TICK_MS);
    const byTick = new Map<number, EngineConnection[]>();
    const seen = new Set<EngineConnection>();
    // Schedules the connections not seen yet, none before `dueTick`; tells their sockets.
    const schedule = (dueTick: number): number => {
      const fresh = Object.values(engineClients(server)).filter((conn) => !seen.has(conn));
      if (fresh.length === 0) return 0;
      const sockets = socketsByConnection(server);
      drainDelays(fresh.length, windowMs).forEach((delay, i) => {
        const conn = fresh[i];
        const tick = Math.max(dueTick, delay / DRAIN_TICK_MS);
        seen.add(conn);
        byTick.set(tick, [...(byTick.get(tick) ?? []), conn]);
        for (const socket of sockets.get(conn) ?? [])
          socket.emit(ChatEvent.ServerDraining, { reconnectInMs: tick * DRAIN_TICK_MS });
      });
      return fresh.length;
    };
    const initial = schedule(0);
    this.logger.info({ connections: initial, windowMs }, 'draining connections');
    if (initial === 0) return this.finished(startedAt, 0);

    await new Promise<void>((resolve) => {
      let next = 0;
      const step = (): void => {
        const due = Math.min(lastTick, Math.floor((Date.now() - startedAt) / DRAIN_TICK_MS));
        schedule(due);
        for (; next <= due; next++) {
          for (const conn of byTick.get(next) ?? []) conn.close();
          byTick.delete(next);
        }
        if (next > lastTick) return resolve();
        setTimeout(step, startedAt + next * DRAIN_TICK_MS - Date.now());
      };
      step();
    });
    // The reserve at the end of the window: the last clients let go reconnect elsewhere
    // before the close removes this instance's presence entries.
    await sleep(startedAt + windowMs - Date.now());
    this.finished(startedAt, seen.size);
  }

  private finished(startedAt: number, connections: number): void {
    const durationMs = Date.now() - startedAt;
    this.metrics.drainDuration.set(durationMs / 1000);
    this.logger.info({ connections, durationMs }, 'drain finished');
  }
}

/** The namespace sockets of each connection (a client has one per namespace it joined). */
function socketsByConnection(server: Server): Map<EngineConnection, Socket[]> {
  const sockets = new Map<EngineConnection, Socket[]>();
  for (const namespace of server._nsps.values()) {
    for (const socket of namespace.sockets.values()) {
      sockets.set(socket.conn, [...(sockets.get(socket.conn) ?? []), socket]);
    }
  }
  return sockets;
}
