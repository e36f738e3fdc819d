import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ReadinessService } from './readiness.service.js';

interface LivenessBody {
  readonly status: 'ok';
  readonly info: { readonly process: { readonly status: 'up'; readonly uptimeS: number } };
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessService,
  ) {}

  /**
   * Liveness: 200 while the process runs, draining included. It does not go through
   * Terminus, which would answer 503 `shutting_down` during the drain and get a draining
   * instance restarted by its orchestrator.
   */
  @Get()
  @Header('Cache-Control', 'no-store')
  root(): LivenessBody {
    return this.live();
  }

  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): LivenessBody {
    return {
      status: 'ok',
      info: { process: { status: 'up', uptimeS: Math.round(process.uptime()) } },
    };
  }

  /** Readiness: 503 while starting or draining (and, with Redis, while Redis is down). */
  @Get('ready')
  @HealthCheck()
  @Header('Cache-Control', 'no-store')
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.readiness.indicatorsToCheck());
  }
}
