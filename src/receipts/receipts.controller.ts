import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorDto, ApiQueryEndpoint } from '../common/openapi';
import { MessageReceiptsDto, MessageReceiptsQueryDto } from './receipts.dto';
import { ReceiptsService } from './receipts.service';
import { ReadsDerivedState } from '../ingest/read-your-writes';

@ApiTags('receipts')
@ReadsDerivedState()
@Controller('messages')
export class ReceiptsController {
  constructor(private readonly receipts: ReceiptsService) {}

  @Get(':id/receipts')
  @ApiQueryEndpoint('When the message was delivered and read, and by whom')
  @ApiParam({ name: 'id', description: 'The CometChat message id', example: '1' })
  @ApiOkResponse({ type: MessageReceiptsDto })
  @ApiNotFoundResponse({
    type: ApiErrorDto,
    description: 'Neither the message nor a receipt for it is known',
  })
  forMessage(
    @Param('id') messageId: string,
    @Query() query: MessageReceiptsQueryDto,
  ): Promise<MessageReceiptsDto> {
    return this.receipts.forMessage(messageId, query);
  }
}
