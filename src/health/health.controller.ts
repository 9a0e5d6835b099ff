import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../common/public.decorator';
import { ReadinessIndicators } from './readiness.indicators';

@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: database reachable, migrations applied, ingest queue not full (503 if not); derivation backlog and lag (`degraded` past DERIVATION_LAG_DEGRADED_MS); the read replica lag when DATABASE_REPLICA_URL is set (`degraded` when unreachable, never 503)',
  })
  ready() {
    return this.health.check([
      () => this.readiness.database(),
      () => this.readiness.migrations(),
      () => this.readiness.ingestQueue(),
      () => this.readiness.derivation(),
      ...(this.readiness.replicaConfigured ? [() => this.readiness.replica()] : []),
    ]);
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }
}
