import { Controller, Get, Param, Query } from '@nestjs/common';
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

@Controller()
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @Get('users/:uid/presence')
  userPresence(
    @Param() params: UserParamsDto,
    @Query() query: PresenceQueryDto,
  ): Promise<PresenceDto> {
    return this.presence.presence(params.uid, query);
  }

  @Get('users/:uid/sessions')
  userSessions(
    @Param() params: UserParamsDto,
    @Query() query: SessionsQueryDto,
  ): Promise<SessionsPageDto> {
    return this.presence.sessions(params.uid, query);
  }

  @Get('presence/online')
  online(@Query() query: OnlineQueryDto): Promise<OnlinePageDto> {
    return this.presence.online(query);
  }
}
