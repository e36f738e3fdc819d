import { Counter, Gauge, type Registry } from 'prom-client';
import type { RedisConnectionWatch } from './redis-connection-watch.js';

/** `/metrics` series of the Redis connections, read from the watch at scrape time. */
export function registerRedisMetrics(registry: Registry, watch: RedisConnectionWatch): void {
  const losses: Counter<'client'> = new Counter({
    name: 'redis_connection_losses_total',
    help: 'Redis connections of this instance lost after they were ready, by client (subscribers lose what is published until they are back)',
    labelNames: ['client'],
    registers: [registry],
    collect: () => {
      losses.reset();
      for (const [client, count] of watch.losses) losses.inc({ client }, count);
    },
  });
  const failures: Counter = new Counter({
    name: 'redis_adapter_write_failures_total',
    help: 'Socket.IO adapter writes to Redis (publishes, subscriptions) that failed: what they carried did not reach the other instances',
    registers: [registry],
    collect: () => {
      failures.reset();
      failures.inc(watch.adapterWriteFailures);
    },
  });
  const behind: Gauge<'client'> = new Gauge({
    name: 'redis_subscriber_output_buffer_bytes',
    help: "Bytes Redis holds for this instance's subscriber connections, waiting to be read (CLIENT LIST omem), by client",
    labelNames: ['client'],
    registers: [registry],
    collect: () => {
      behind.reset();
      for (const [client, bytes] of watch.behindBytes) behind.set({ client }, bytes);
    },
  });
}
