import { Module } from '@nestjs/common';
import { BasicAuthGuard } from './basic-auth.guard';
import { DerivationRunner } from './derivation-runner.service';
import { IngestWriter } from './ingest-writer.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  controllers: [WebhooksController],
  providers: [WebhooksService, IngestWriter, DerivationRunner, BasicAuthGuard],
  exports: [IngestWriter, DerivationRunner],
})
export class WebhooksModule {}
