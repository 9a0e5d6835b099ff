import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorDto, ApiQueryEndpoint } from '../common/openapi';
import {
  OnlinePageDto,
  OnlineQueryDto,
  PresenceDto,
  PresenceQueryDto,
  SessionsPageDto,
  SessionsQueryDto,
  UserParamsDto,
} from './presence.dto';
import { PresenceService } from './presence.service';
import { PrefersReplica, ReadsDerivedState } from '../ingest/read-your-writes';

@ApiTags('presence')
@ReadsDerivedState()
@Controller()
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @Get('users/:uid/presence')
  @ApiQueryEndpoint('Whether the user is online, since when, on which devices')
  @ApiOkResponse({ type: PresenceDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No connection event of this user' })
  userPresence(
    @Param() params: UserParamsDto,
    @Query() query: PresenceQueryDto,
  ): Promise<PresenceDto> {
    return this.presence.presence(params.uid, query);
  }

  @Get('users/:uid/sessions')
  @PrefersReplica()
  @ApiQueryEndpoint("The user's sessions, newest connection first, and the time online")
  @ApiOkResponse({ type: SessionsPageDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No connection event of this user' })
  userSessions(
    @Param() params: UserParamsDto,
    @Query() query: SessionsQueryDto,
  ): Promise<SessionsPageDto> {
    return this.presence.sessions(params.uid, query);
  }

  @Get('presence/online')
  @ApiQueryEndpoint('Users online now', "Without appId, every app's online users.")
  @ApiOkResponse({ type: OnlinePageDto })
  online(@Query() query: OnlineQueryDto): Promise<OnlinePageDto> {
    return this.presence.online(query);
  }
}
