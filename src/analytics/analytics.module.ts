import { Module } from '@nestjs/common';
import { ConcurrencyController } from './concurrency.controller';
import { ConcurrencyService } from './concurrency.service';

/** Cross-cutting aggregate queries over the derived tables. */
@Module({
  controllers: [ConcurrencyController],
  providers: [ConcurrencyService],
})
export class AnalyticsModule {}
