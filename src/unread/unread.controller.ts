import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorDto, ApiQueryEndpoint } from '../common/openapi';
import { ReadsDerivedState } from '../ingest/read-your-writes';
import {
  UnreadUserParamsDto,
  UnreadUsersPageDto,
  UnreadUsersQueryDto,
  UserUnreadDto,
  UserUnreadQueryDto,
} from './unread.dto';
import { UnreadService } from './unread.service';

const DEFINITION =
  'A message is unread for a user when it was sent to them (one-to-one) or to a group while ' +
  'they were a member, not by them, is not deleted and not an action message, and they have no ' +
  'read receipt for it, explicit or implied (a read covers every earlier message of the ' +
  'conversation). Group membership comes from group member events; a user without any in a ' +
  'group they sent or had a receipt in counts as a member for all its messages (`inferred`).';

@ApiTags('unread')
@ReadsDerivedState()
@Controller()
export class UnreadController {
  constructor(private readonly unread: UnreadService) {}

  @Get('users/:uid/unread')
  @ApiQueryEndpoint(
    "The user's unread messages: the total, and per conversation, newest unread first",
    DEFINITION,
  )
  @ApiOkResponse({ type: UserUnreadDto })
  @ApiNotFoundResponse({
    type: ApiErrorDto,
    description: 'No conversation of this user: never sent a message to, nor in a group',
  })
  forUser(
    @Param() params: UnreadUserParamsDto,
    @Query() query: UserUnreadQueryDto,
  ): Promise<UserUnreadDto> {
    return this.unread.forUser(params.uid, query);
  }

  @Get('analytics/unread')
  @ApiQueryEndpoint(
    'Users with messages unread for longer than olderThan, with their counts',
    `For re-engagement: each user with a message sent before now minus olderThan and still unread. ${DEFINITION}`,
  )
  @ApiOkResponse({ type: UnreadUsersPageDto })
  olderThan(@Query() query: UnreadUsersQueryDto): Promise<UnreadUsersPageDto> {
    return this.unread.olderThan(query);
  }
}
