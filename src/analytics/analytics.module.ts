import { Module } from '@nestjs/common';
import { ConcurrencyController } from './concurrency.controller';
import { ConcurrencyService } from './concurrency.service';
import { LatencyController } from './latency.controller';
import { LatencyService } from './latency.service';

/** Aggregate queries over the derived tables; the raw SQL lives in the services. */
@Module({
  controllers: [LatencyController, ConcurrencyController],
  providers: [LatencyService, ConcurrencyService],
})
export class AnalyticsModule {}
