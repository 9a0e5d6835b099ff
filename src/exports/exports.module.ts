import { Module } from '@nestjs/common';
import { ExportController } from './export.controller';
import { ExportService } from './export.service';

/** GET /export/…: messages, receipts, sessions and raw events as CSV or NDJSON streams. */
@Module({
  controllers: [ExportController],
  providers: [ExportService],
  exports: [ExportService],
})
export class ExportsModule {}
