import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { APP_LOGGER } from '../../logging/logging.module.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import {
  type EngineConnection,
  engineClients,
  namespacesOf,
  writeToConnection,
} from '../../compat/socket-io.js';
import { ServerEvent } from '../../gateway/server-events.js';
import { DRAIN_TICK_MS, drainDelays, drainSpreadMs } from './drain-schedule.js';
import { SocketServerRef } from './socket-server-ref.js';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** How long a connection's close waits for its `server:draining` to be written. */
export const NOTICE_WRITE_BOUND_MS = 1000;

/** A connection the drain scheduled: when it goes, and its notices not yet written. */
interface Departure {
  readonly tick: number;
  unwritten: number;
  /** Set once its tick came while a notice was still being written. */
  onWritten?: () => void;
}

/**
 * Lets every connection go, spread over `SHUTDOWN_DRAIN_MS` less a reserve at its end
 * (`drainSpreadMs`), then waits out the window. Each socket is first told
 * `server:draining { reconnectInMs }`, written straight to its connection (never stored for
 * recovery, so no other instance replays it); then its underlying connection is closed once
 * the notices are written (at most `NOTICE_WRITE_BOUND_MS` later), which a stock socket.io
 * client sees as "transport close" and answers by reconnecting with its backoff, to another
 * instance behind the load balancer. (`socket.disconnect(true)` would give "io server
 * disconnect", after which the client does not come back.) With the streams adapter the
 * session is kept, so the client recovers what it missed.
 *
 * Connections are taken from engine.io, not only from the namespaces, and looked for again on
 * every tick, and so are sockets not told yet: a handshake that was past the draining check
 * when the drain began, or a socket still in the namespace middleware, is told and let go in
 * the spread like the others. Ticks are timed from the start, so a busy event loop delays a
 * batch but never shifts the rest of the schedule into the reserve.
 */
@Injectable()
export class Drainer {
  private draining = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ref: SocketServerRef,
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
    const departures = new Map<EngineConnection, Departure>();
    const told = new WeakSet<Socket>();
    // Schedules the connections not seen yet, none before `dueTick`, and tells every socket
    // not told yet when its connection goes. Returns how many connections were new.
    const schedule = (dueTick: number): number => {
      const fresh = Object.values(engineClients(server)).filter((conn) => !departures.has(conn));
      drainDelays(fresh.length, windowMs).forEach((delay, i) => {
        const tick = Math.max(dueTick, delay / DRAIN_TICK_MS);
        departures.set(fresh[i], { tick, unwritten: 0 });
        byTick.set(tick, [...(byTick.get(tick) ?? []), fresh[i]]);
      });
      const elapsedMs = Date.now() - startedAt;
      for (const socket of namespaceSockets(server)) {
        const departure = departures.get(socket.conn);
        if (!departure || told.has(socket)) continue;
        told.add(socket);
        departure.unwritten += 1;
        const reconnectInMs = Math.max(0, departure.tick * DRAIN_TICK_MS - elapsedMs);
        writeToConnection(socket, ServerEvent.Draining, { reconnectInMs }, () => {
          departure.unwritten -= 1;
          if (departure.unwritten === 0) departure.onWritten?.();
        });
      }
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
          for (const conn of byTick.get(next) ?? []) letGo(conn, departures.get(conn)!);
          byTick.delete(next);
        }
        if (next > lastTick) return resolve();
        setTimeout(step, startedAt + next * DRAIN_TICK_MS - Date.now());
      };
      step();
    });
    // The reserve at the end of the window: the last clients let go reconnect elsewhere
    // while this instance is still up.
    await sleep(startedAt + windowMs - Date.now());
    this.finished(startedAt, departures.size);
  }

  private finished(startedAt: number, connections: number): void {
    const durationMs = Date.now() - startedAt;
    this.metrics.drainDuration.set(durationMs / 1000);
    this.logger.info({ connections, durationMs }, 'drain finished');
  }
}

/**
 * Closes `conn` once its notices are written. A connection that does not take them within
 * `NOTICE_WRITE_BOUND_MS` (a client that stopped reading) is closed discarding its buffer:
 * engine.io would otherwise wait for the buffer to drain, until the heartbeat gives up.
 */
function letGo(conn: EngineConnection, departure: Departure): void {
  if (departure.unwritten === 0) return void conn.close();
  const bound = setTimeout(() => conn.close(true), NOTICE_WRITE_BOUND_MS);
  departure.onWritten = () => {
    clearTimeout(bound);
    conn.close();
  };
}

/** Every connected socket of every namespace (a client has one per namespace it joined). */
function* namespaceSockets(server: Server): Iterable<Socket> {
  for (const namespace of namespacesOf(server)) yield* namespace.sockets.values();
}
