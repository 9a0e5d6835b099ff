import { Global, Module } from '@nestjs/common';
import { PartitionKeeper } from '../db/partition-keeper.service';
import { DerivationRunner } from './derivation-runner.service';
import { IngestWriter } from './ingest-writer.service';
import { ReadYourWritesInterceptor } from './read-your-writes';

/** The raw event log: the ack path's writer, its partitions, and the background derivation runner. */
@Global()
@Module({
  providers: [IngestWriter, DerivationRunner, ReadYourWritesInterceptor, PartitionKeeper],
  exports: [IngestWriter, DerivationRunner, ReadYourWritesInterceptor],
})
export class IngestModule {}
