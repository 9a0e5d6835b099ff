import { Global, Module } from '@nestjs/common';
import { DerivationRunner } from './derivation-runner.service';
import { IngestWriter } from './ingest-writer.service';
import { ReadYourWritesInterceptor } from './read-your-writes';

/** The raw event log: the ack path's writer and the background derivation runner. */
@Global()
@Module({
  providers: [IngestWriter, DerivationRunner, ReadYourWritesInterceptor],
  exports: [IngestWriter, DerivationRunner, ReadYourWritesInterceptor],
})
export class IngestModule {}
