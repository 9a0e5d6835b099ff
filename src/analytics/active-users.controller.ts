import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { ReadsDerivedState } from '../ingest/read-your-writes';
import { ActiveUsersDto, ActiveUsersQueryDto } from './active-users.dto';
import { ActiveUsersService } from './active-users.service';

@ApiTags('analytics')
@ReadsDerivedState()
@Controller('analytics')
export class ActiveUsersController {
  constructor(private readonly activeUsers: ActiveUsersService) {}

  @Get('active-users')
  @ApiQueryEndpoint(
    'Distinct users online and distinct senders per UTC day, week (from Monday) or month, and DAU/MAU stickiness',
    'A user is online in a bucket when one of their sessions overlaps it (an open session counts until now). At most 1000 buckets. Without appId every app counts, a user being an (appId, uid) pair.',
  )
  @ApiOkResponse({ type: ActiveUsersDto })
  get(@Query() query: ActiveUsersQueryDto): Promise<ActiveUsersDto> {
    return this.activeUsers.activeUsers(query);
  }
}
