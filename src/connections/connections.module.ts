import { Module } from '@nestjs/common';
import { ConnectionsDerivation } from './connections.derivation';
import { PresenceController } from './presence.controller';
import { PresenceService } from './presence.service';

/** Connections end to end: connection events, sessions, presence and their queries. */
@Module({
  controllers: [PresenceController],
  providers: [ConnectionsDerivation, PresenceService],
})
export class ConnectionsModule {}
