import type { Registry } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

interface MetricValue {
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * Counters and histograms for the per-event hot path. prom-client's labelled children hash
 * and validate their labels on every `inc()`/`observe()`; these keep one plain object per
 * label set, resolved once, so counting an event is a field increment. The registry reads
 * them in Prometheus form at scrape time, like any prom-client metric.
 */
abstract class Family<L extends string, S> {
  private readonly members = new Map<string, { labels: Labels<L>; series: S }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly type: 'counter' | 'histogram',
  ) {
    registry.registerMetric(this as never);
  }

  /** The series for one label set; keep the result instead of calling this per event. */
  series(labels: Labels<L>): S {
    const key = Object.values<string>(labels).join('\u0000');
    let member = this.members.get(key);
    if (!member) {
      member = { labels, series: this.create() };
      this.members.set(key, member);
    }
    return member.series;
  }

  get(): { name: string; help: string; type: string; aggregator: 'sum'; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.members.values()) this.read(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  reset(): void {
    this.members.clear();
  }

  protected abstract create(): S;
  protected abstract read(labels: Labels<L>, series: S, into: MetricValue[]): void;
}

export class CounterSeries {
  value = 0;
  inc(): void {
    this.value += 1;
  }
}

export class CounterFamily<L extends string> extends Family<L, CounterSeries> {
  constructor(registry: Registry, name: string, help: string) {
    super(registry, name, help, 'counter');
  }
  protected create(): CounterSeries {
    return new CounterSeries();
  }
  protected read(labels: Labels<L>, series: CounterSeries, into: MetricValue[]): void {
    into.push({ labels: { ...labels }, value: series.value });
  }
}

export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i] += 1;
        return;
      }
    }
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly bounds: readonly number[],
  ) {
    super(registry, name, help, 'histogram');
  }
  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }
  protected read(labels: Labels<L>, series: HistogramSeries, into: MetricValue[]): void {
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += series.counts[i];
      into.push({
        metricName: `${this.name}_bucket`,
        labels: { le: String(bound), ...labels },
        value: cumulative,
      });
    });
    into.push({
      metricName: `${this.name}_bucket`,
      labels: { le: '+Inf', ...labels },
      value: series.count,
    });
    into.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: series.sum });
    into.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: series.count });
  }
}
