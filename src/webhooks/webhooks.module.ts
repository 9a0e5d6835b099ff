import { Module } from '@nestjs/common';
import { IngestWriter } from './ingest-writer.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, IngestWriter],
  exports: [IngestWriter],
})
export class WebhooksModule {}
