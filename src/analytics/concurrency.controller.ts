import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { ConcurrencyDto, ConcurrencyQueryDto } from './concurrency.dto';
import { ConcurrencyService } from './concurrency.service';
import { PrefersReplica, ReadsDerivedState } from '../ingest/read-your-writes';

@ApiTags('analytics')
@ReadsDerivedState()
@PrefersReplica()
@Controller('analytics')
export class ConcurrencyController {
  constructor(private readonly concurrency: ConcurrencyService) {}

  @Get('concurrency')
  @ApiQueryEndpoint(
    'Users online at the end of each bucket and the peak within it',
    'Buckets are aligned to the interval in UTC, at most 1000 of them. Without appId every app counts.',
  )
  @ApiOkResponse({ type: ConcurrencyDto })
  get(@Query() query: ConcurrencyQueryDto): Promise<ConcurrencyDto> {
    return this.concurrency.concurrency(query);
  }
}
