import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { BusyConversationsDto, ConversationsQueryDto } from './conversations.dto';
import { ConversationsService } from './conversations.service';
import { ReadsDerivedState } from '../ingest/read-your-writes';

@ApiTags('analytics')
@ReadsDerivedState()
@Controller('analytics')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get('conversations')
  @ApiQueryEndpoint(
    'The busiest conversations: most messages sent in the window',
    'With the number of distinct senders, the last message time and the median read latency.',
  )
  @ApiOkResponse({ type: BusyConversationsDto })
  busiest(@Query() query: ConversationsQueryDto): Promise<BusyConversationsDto> {
    return this.conversations.busiest(query);
  }
}
