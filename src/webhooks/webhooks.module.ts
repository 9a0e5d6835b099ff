import { Module } from '@nestjs/common';
import { BasicAuthGuard } from './basic-auth.guard';
import { IngestWriter } from './ingest-writer.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, IngestWriter, BasicAuthGuard],
  exports: [IngestWriter],
})
export class WebhooksModule {}
