import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Pool } from 'pg';
import { Public } from '../common/public.decorator';
import { IngestWriter } from '../webhooks/ingest-writer.service';

@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly pool: Pool,
    private readonly writer: IngestWriter,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers and the ingest queue has room. */
  @Get()
  async ready() {
    const database = await this.pool
      .query('SELECT 1')
      .then(() => 'up' as const)
      .catch(() => 'down' as const);
    const body = {
      status: database === 'up' ? 'ok' : 'unavailable',
      database,
      ingestQueueDepth: this.writer.depth,
    };
    if (database !== 'up') throw new ServiceUnavailableException(body);
    return body;
  }
}
