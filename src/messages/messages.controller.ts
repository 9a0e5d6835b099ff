import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorDto, ApiQueryEndpoint } from '../common/openapi';
import { MessageDto, MessageQueryDto } from './messages.dto';
import { MessagesService } from './messages.service';
import { ReadsDerivedState } from '../ingest/read-your-writes';

@ApiTags('messages')
@ReadsDerivedState()
@Controller('messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get(':id')
  @ApiQueryEndpoint(
    'One message: who sent it where, when, and whether it was edited or deleted',
    'Edits and deletes arrive as action messages (message_edited, message_deleted, or a legacy ' +
      'after_message of category "action"); they change this message and are never messages ' +
      'of their own.',
  )
  @ApiParam({ name: 'id', description: 'The CometChat message id', example: '1' })
  @ApiOkResponse({ type: MessageDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such message (in that app)' })
  findOne(@Param('id') id: string, @Query() query: MessageQueryDto): Promise<MessageDto> {
    return this.messages.findOne(id, query);
  }
}
