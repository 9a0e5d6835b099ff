import { Controller, Get, Param, Query } from '@nestjs/common';
import { MessageReceiptsDto, MessageReceiptsQueryDto } from './receipts.dto';
import { ReceiptsService } from './receipts.service';

@Controller('messages')
export class ReceiptsController {
  constructor(private readonly receipts: ReceiptsService) {}

  @Get(':id/receipts')
  forMessage(
    @Param('id') messageId: string,
    @Query() query: MessageReceiptsQueryDto,
  ): Promise<MessageReceiptsDto> {
    return this.receipts.forMessage(messageId, query);
  }
}
