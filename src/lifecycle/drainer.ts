import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { ChatEvent } from '../chat/chat.events.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { DRAIN_TICK_MS, drainDelays } from './drain-schedule.js';

type Connection = Socket['conn'];

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
 */
@Injectable()
export class Drainer {
  private draining = false;

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

  async drain(): Promise<void> {
    this.draining = true;
    const server = this.ref.server;
    const windowMs = this.config.shutdown.drainMs;
    if (!server) return;
    const startedAt = Date.now();
    const connections = new Map<Connection, Socket[]>();
    for (const namespace of server._nsps.values()) {
      for (const socket of namespace.sockets.values()) {
        const sockets = connections.get(socket.conn) ?? [];
        sockets.push(socket);
        connections.set(socket.conn, sockets);
      }
    }
    const delays = drainDelays(connections.size, windowMs);
    const byTick = new Map<number, Connection[]>();
    let i = 0;
    for (const [conn, sockets] of connections) {
      const delay = delays[i++];
      for (const socket of sockets) socket.emit(ChatEvent.ServerDraining, { reconnectInMs: delay });
      const tick = delay / DRAIN_TICK_MS;
      byTick.set(tick, [...(byTick.get(tick) ?? []), conn]);
    }
    this.logger.info({ connections: connections.size, windowMs }, 'draining connections');
    await this.letGo(byTick);
    // The reserve at the end of the window: the last clients let go reconnect elsewhere
    // before the close removes this instance's presence entries.
    if (connections.size > 0) await sleep(startedAt + windowMs - Date.now());
    const durationMs = Date.now() - startedAt;
    this.metrics.drainDuration.set(durationMs / 1000);
    this.logger.info({ connections: connections.size, durationMs }, 'drain finished');
  }

  private letGo(byTick: Map<number, Connection[]>): Promise<void> {
    const last = Math.max(0, ...byTick.keys());
    let tick = 0;
    return new Promise((resolve) => {
      const step = (): void => {
        for (const conn of byTick.get(tick) ?? []) conn.close();
        if (tick >= last) return resolve();
        tick += 1;
        setTimeout(step, DRAIN_TICK_MS);
      };
      step();
    });
  }
}
