import { Inject, Injectable } from '@nestjs/common';
import {
  type HealthIndicatorFunction,
  HealthIndicatorService,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { MetricsService } from '../metrics/metrics.service.js';
import type { RedisConnections } from '../cluster/redis-connections.js';
import { REDIS } from '../cluster/cluster.module.js';

/** A readiness probe waits this long for Redis before calling it down. */
const REDIS_PING_TIMEOUT_MS = 1000;

export type ReadinessState = 'starting' | 'ready' | 'draining';

/**
 * The app's own readiness flag. Terminus flips its checks to `shutting_down` only in its
 * own shutdown hook, which may run after the drain has begun; owning the flag means
 * readiness turns 503 the moment draining starts.
 */
@Injectable()
export class ReadinessService {
  private state: ReadinessState = 'starting';

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: RedisConnections | null,
  ) {}

  /** What readiness checks: the app's own state, and Redis when the app is clustered. */
  indicatorsToCheck(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [() => this.check()];
    const redis = this.redis;
    if (redis) {
      checks.push(() =>
        this.indicators
          .check('redis')
          .attempt(() => redis.ping())
          .withTimeout(REDIS_PING_TIMEOUT_MS),
      );
    }
    return checks;
  }

  get current(): ReadinessState {
    return this.state;
  }

  markReady(): void {
    if (this.state === 'starting') this.state = 'ready';
  }

  markDraining(): void {
    this.state = 'draining';
    this.metrics.draining.set(1);
  }

  check(): HealthIndicatorResult<'app'> {
    const indicator = this.indicators.check('app');
    const state = this.state;
    switch (state) {
      case 'ready':
        return indicator.up({ state });
      case 'starting':
      case 'draining':
        return indicator.down({ state });
      default: {
        const unreachable: never = state;
        return unreachable;
      }
    }
  }
}
