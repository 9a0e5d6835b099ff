import { Module } from '@nestjs/common';
import { ActiveUsersController } from './active-users.controller';
import { ActiveUsersService } from './active-users.service';
import { ActivityDerivation } from './activity.derivation';
import { ConcurrencyController } from './concurrency.controller';
import { ConcurrencyService } from './concurrency.service';
import { SessionLengthsController } from './session-lengths.controller';
import { SessionLengthsService } from './session-lengths.service';

/** Cross-cutting aggregates over the derived tables, and the active-user days they need. */
@Module({
  controllers: [ConcurrencyController, ActiveUsersController, SessionLengthsController],
  providers: [ConcurrencyService, ActiveUsersService, SessionLengthsService, ActivityDerivation],
})
export class AnalyticsModule {}
