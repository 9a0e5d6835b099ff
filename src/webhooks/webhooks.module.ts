import { Module } from '@nestjs/common';
import { BasicAuthGuard } from './basic-auth.guard';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** The HTTP edge of ingest: POST /webhooks/cometchat, its Basic auth and answers. */
@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, BasicAuthGuard],
})
export class WebhooksModule {}
