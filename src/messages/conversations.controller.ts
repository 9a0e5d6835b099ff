import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import {
  BusyConversationsDto,
  ConversationMessagesPageDto,
  ConversationMessagesQueryDto,
  ConversationsQueryDto,
} from './conversations.dto';
import { ConversationsService } from './conversations.service';
import { PrefersReplica, ReadsDerivedState } from '../ingest/read-your-writes';

@ReadsDerivedState()
@Controller()
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get('conversations/:id/messages')
  @ApiTags('messages')
  @ApiQueryEndpoint(
    "A conversation's messages, newest first, each with its delivery and read receipts",
    'Edits and deletes (action messages) are not listed: they show as editedAt and deletedAt. ' +
      'Without appId the conversation must be known in one app only (400 naming appId if not); ' +
      'an unknown conversation has no messages.',
  )
  @ApiParam({
    name: 'id',
    description: 'The CometChat conversation id',
    example: 'cometchat-uid-1_user_cometchat-uid-2',
  })
  @ApiOkResponse({ type: ConversationMessagesPageDto })
  messages(
    @Param('id') id: string,
    @Query() query: ConversationMessagesQueryDto,
  ): Promise<ConversationMessagesPageDto> {
    return this.conversations.messages(id, query);
  }

  @Get('analytics/conversations')
  @PrefersReplica()
  @ApiTags('analytics')
  @ApiQueryEndpoint(
    'The busiest conversations: most messages sent in the window',
    'With the number of distinct senders, the last message time and the median read latency.',
  )
  @ApiOkResponse({ type: BusyConversationsDto })
  busiest(@Query() query: ConversationsQueryDto): Promise<BusyConversationsDto> {
    return this.conversations.busiest(query);
  }
}
