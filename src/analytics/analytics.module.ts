import { Module } from '@nestjs/common';
import { ConcurrencyController } from './concurrency.controller';
import { ConcurrencyService } from './concurrency.service';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';
import { LatencyController } from './latency.controller';
import { LatencyService } from './latency.service';

/** Aggregate queries over the derived tables; the raw SQL lives in the services. */
@Module({
  controllers: [LatencyController, ConcurrencyController, ConversationsController],
  providers: [LatencyService, ConcurrencyService, ConversationsService],
})
export class AnalyticsModule {}
