import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { Public } from '../common/public.decorator';
import { BasicAuthGuard } from './basic-auth.guard';
import { WebhookAnswer, WebhooksService } from './webhooks.service';

@Controller('webhooks')
@Public()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('cometchat')
  @HttpCode(200)
  @UseGuards(BasicAuthGuard)
  receive(
    @Body() body: Buffer | undefined,
    @Headers('content-type') contentType?: string,
  ): Promise<WebhookAnswer> {
    return this.webhooks.receive(body ?? Buffer.alloc(0), contentType);
  }
}
