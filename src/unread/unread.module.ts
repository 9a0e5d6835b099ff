import { Module } from '@nestjs/common';
import { UnreadController } from './unread.controller';
import { UnreadDerivation } from './unread.derivation';
import { UnreadService } from './unread.service';

/** Unread counts end to end: read watermarks and oldest unread messages, and their queries. */
@Module({
  controllers: [UnreadController],
  providers: [UnreadDerivation, UnreadService],
})
export class UnreadModule {}
