import { Module } from '@nestjs/common';
import { LatencyController } from './latency.controller';
import { LatencyService } from './latency.service';
import { ReceiptsController } from './receipts.controller';
import { ReceiptsDerivation } from './receipts.derivation';
import { ReceiptsService } from './receipts.service';

/** Receipts end to end: explicit and implied receipts, group aggregates, the latency histogram and queries. */
@Module({
  controllers: [ReceiptsController, LatencyController],
  providers: [ReceiptsDerivation, ReceiptsService, LatencyService],
})
export class ReceiptsModule {}
