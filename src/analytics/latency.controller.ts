import { Controller, Get, Query } from '@nestjs/common';
import { LatencyQueryDto, LatencyReportDto } from './latency.dto';
import { LatencyService } from './latency.service';

@Controller('analytics')
export class LatencyController {
  constructor(private readonly latency: LatencyService) {}

  /** Time from a message's sentAt to each reader's read receipt. */
  @Get('read-latency')
  readLatency(@Query() query: LatencyQueryDto): Promise<LatencyReportDto> {
    return this.latency.report('read', query);
  }

  /** Time from a message's sentAt to each recipient's delivery receipt. */
  @Get('delivery-latency')
  deliveryLatency(@Query() query: LatencyQueryDto): Promise<LatencyReportDto> {
    return this.latency.report('delivered', query);
  }
}
