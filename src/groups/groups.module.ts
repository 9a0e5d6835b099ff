import { Module } from '@nestjs/common';
import { GroupsDerivation } from './groups.derivation';

/** Groups end to end: membership intervals from CometChat's group member events. */
@Module({
  providers: [GroupsDerivation],
})
export class GroupsModule {}
