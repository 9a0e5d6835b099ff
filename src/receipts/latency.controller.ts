import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { LatencyQueryDto, LatencyReportDto } from './latency.dto';
import { LatencyService } from './latency.service';
import { PrefersReplica, ReadsDerivedState } from '../ingest/read-your-writes';

@ApiTags('analytics')
@ReadsDerivedState()
@PrefersReplica()
@Controller('analytics')
export class LatencyController {
  constructor(private readonly latency: LatencyService) {}

  @Get('read-latency')
  @ApiQueryEndpoint("Read latency: from a message's sentAt to each reader's read receipt")
  @ApiOkResponse({ type: LatencyReportDto })
  readLatency(@Query() query: LatencyQueryDto): Promise<LatencyReportDto> {
    return this.latency.report('read', query);
  }

  @Get('delivery-latency')
  @ApiQueryEndpoint(
    "Delivery latency: from a message's sentAt to each recipient's delivery receipt",
  )
  @ApiOkResponse({ type: LatencyReportDto })
  deliveryLatency(@Query() query: LatencyQueryDto): Promise<LatencyReportDto> {
    return this.latency.report('delivered', query);
  }
}
