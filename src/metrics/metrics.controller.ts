import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Public } from '../common/public.decorator';
import { MetricsService } from './metrics.service';

/** Public like /health: scrapers need no API key, and the metrics hold no user data. */
@ApiTags('operations')
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({
    description:
      'Webhook events received/stored/duplicate/rejected by trigger, ingest latency and batch ' +
      'sizes, ingest queue depth, PostgreSQL pool use, and the default Node.js metrics.',
    schema: {
      type: 'string',
      example: 'webhook_events_stored_total{trigger="after_message"} 42\n',
    },
  })
  render(): Promise<string> {
    return this.metrics.render();
  }
}
