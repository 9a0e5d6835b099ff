import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { ReadsDerivedState } from '../ingest/read-your-writes';
import { SessionLengthsDto, SessionLengthsQueryDto } from './session-lengths.dto';
import { SessionLengthsService } from './session-lengths.service';

@ApiTags('analytics')
@ReadsDerivedState()
@Controller('analytics')
export class SessionLengthsController {
  constructor(private readonly lengths: SessionLengthsService) {}

  @Get('sessions')
  @ApiQueryEndpoint(
    'How long sessions last: count and length distribution, overall and per platform',
    'Sessions that started in [from, to). Lengths of sessions closed by their own disconnect and of those closed by inference are given apart; open sessions are counted, with no length. Percentiles are exact (percentile_disc).',
  )
  @ApiOkResponse({ type: SessionLengthsDto })
  get(@Query() query: SessionLengthsQueryDto): Promise<SessionLengthsDto> {
    return this.lengths.sessionLengths(query);
  }
}
