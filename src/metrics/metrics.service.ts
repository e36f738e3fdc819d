import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import {
  CounterFamily,
  type CounterSeries,
  HistogramFamily,
  type HistogramSeries,
} from './metric-families.js';

/** What handling one event touches: two series, resolved once per (namespace, event). */
export interface EventInstruments {
  readonly received: CounterSeries;
  readonly duration: HistogramSeries;
}

type SocketCounter = () => number;

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The app's Prometheus registry. One registry per app (not prom-client's global one), so
 * several apps in one process, as in the tests, never collide. Per-connection metrics use
 * prom-client directly; per-event ones use the plain series of `metric-families.ts`.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly namespaceCounters = new Map<string, SocketCounter>();
  private readonly instruments = new Map<string, Map<string, EventInstruments>>();

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
    help: 'Handshakes and namespace connections refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly disconnections = new Counter({
    name: 'ws_disconnections_total',
    help: 'Sockets closed, by namespace and Socket.IO disconnect reason',
    labelNames: ['namespace', 'reason'],
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: 'ws_slow_consumer_disconnections_total',
    help: 'Connections closed because they did not read what they were sent',
    registers: [this.registry],
  });
  readonly drainDuration = new Gauge({
    name: 'ws_drain_duration_seconds',
    help: 'How long the last drain took to let every connection go',
    registers: [this.registry],
  });
  readonly draining = new Gauge({
    name: 'ws_draining',
    help: '1 while this instance drains its connections before exiting, else 0',
    registers: [this.registry],
  });

  private readonly eventsReceived = new CounterFamily<'namespace' | 'event'>(
    this.registry,
    'ws_events_received_total',
    'Client events received, by namespace and event ("unknown" for unhandled names)',
  );
  private readonly eventsEmitted = new CounterFamily<'namespace' | 'event'>(
    this.registry,
    'ws_events_emitted_total',
    'Server events emitted (one per emit call, whatever the number of recipients)',
  );
  private readonly eventDuration = new HistogramFamily<'namespace' | 'event'>(
    this.registry,
    'ws_event_handling_seconds',
    'Time from receiving a client event to its ack, by namespace and event',
    DURATION_BUCKETS,
  );
  private readonly eventErrors = new CounterFamily<'namespace' | 'code'>(
    this.registry,
    'ws_event_errors_total',
    'Client events answered with an error, by namespace and code',
  );
  private readonly rateLimited = new CounterFamily<'namespace'>(
    this.registry,
    'ws_rate_limited_events_total',
    'Client events refused with RATE_LIMITED, by namespace',
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.draining.set(0);
  }

  /** Registers a live count of a namespace's sockets, read on each scrape. */
  trackNamespace(namespace: string, count: SocketCounter): void {
    this.namespaceCounters.set(namespace, count);
  }

  forEvent(namespace: string, event: string): EventInstruments {
    let byEvent = this.instruments.get(namespace);
    if (!byEvent) {
      byEvent = new Map();
      this.instruments.set(namespace, byEvent);
    }
    let found = byEvent.get(event);
    if (!found) {
      found = {
        received: this.eventsReceived.series({ namespace, event }),
        duration: this.eventDuration.series({ namespace, event }),
      };
      byEvent.set(event, found);
    }
    return found;
  }

  /** The counter of one emitted event; keep it and call `inc()` per emit. */
  emitted(namespace: string, event: string): CounterSeries {
    return this.eventsEmitted.series({ namespace, event });
  }

  errorAnswered(namespace: string, code: string): void {
    this.eventErrors.series({ namespace, code }).inc();
    if (code === 'RATE_LIMITED') this.rateLimited.series({ namespace }).inc();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
