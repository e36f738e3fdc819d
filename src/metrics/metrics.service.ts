import { Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type Counter as CounterType,
} from 'prom-client';

/** Per-event instruments, resolved once per (namespace, event) so handling allocates nothing. */
export interface EventInstruments {
  readonly received: CounterType.Internal;
  readonly duration: ReturnType<Histogram['labels']>;
}

type SocketCounter = () => number;

/**
 * The app's Prometheus registry. One registry per app (not prom-client's global one), so
 * several apps in one process, as in the tests, never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly namespaceCounters = new Map<string, SocketCounter>();
  private readonly instruments = new Map<string, EventInstruments>();

  readonly connectedSockets = new Gauge({
    name: 'ws_connected_sockets',
    help: 'Sockets currently connected, by namespace',
    labelNames: ['namespace'],
    registers: [this.registry],
    collect: () => {
      for (const [namespace, count] of this.namespaceCounters) {
        this.connectedSockets.set({ namespace }, count());
      }
    },
  });
  readonly connectionsOpened = new Counter({
    name: 'ws_connections_opened_total',
    help: 'Sockets accepted, by namespace',
    labelNames: ['namespace'],
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'ws_connections_refused_total',
    help: 'Handshakes refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly disconnections = new Counter({
    name: 'ws_disconnections_total',
    help: 'Sockets closed, by namespace and Socket.IO disconnect reason',
    labelNames: ['namespace', 'reason'],
    registers: [this.registry],
  });
  readonly eventsReceived = new Counter({
    name: 'ws_events_received_total',
    help: 'Client events received, by namespace and event ("unknown" for unhandled names)',
    labelNames: ['namespace', 'event'],
    registers: [this.registry],
  });
  readonly eventsEmitted = new Counter({
    name: 'ws_events_emitted_total',
    help: 'Server events emitted (one per emit call, whatever the number of recipients)',
    labelNames: ['namespace', 'event'],
    registers: [this.registry],
  });
  readonly eventDuration = new Histogram({
    name: 'ws_event_handling_seconds',
    help: 'Time from receiving a client event to its ack, by namespace and event',
    labelNames: ['namespace', 'event'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'ws_rate_limited_events_total',
    help: 'Client events refused with RATE_LIMITED, by namespace',
    labelNames: ['namespace'],
    registers: [this.registry],
  });
  readonly eventErrors = new Counter({
    name: 'ws_event_errors_total',
    help: 'Client events answered with an error, by namespace and code',
    labelNames: ['namespace', 'code'],
    registers: [this.registry],
  });
  readonly draining = new Gauge({
    name: 'ws_draining',
    help: '1 while this instance drains its connections before exiting, else 0',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.draining.set(0);
  }

  /** Registers a live count of a namespace's sockets, read on each scrape. */
  trackNamespace(namespace: string, count: SocketCounter): void {
    this.namespaceCounters.set(namespace, count);
  }

  forEvent(namespace: string, event: string): EventInstruments {
    const key = `${namespace}\u0000${event}`;
    let found = this.instruments.get(key);
    if (!found) {
      found = {
        received: this.eventsReceived.labels(namespace, event),
        duration: this.eventDuration.labels(namespace, event),
      };
      this.instruments.set(key, found);
    }
    return found;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
