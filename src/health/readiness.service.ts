import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { MetricsService } from '../metrics/metrics.service.js';

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
  ) {}

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
