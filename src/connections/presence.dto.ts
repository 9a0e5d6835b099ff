import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { PageQueryDto } from '../common/paging';
import { AppScopedQueryDto, QueryPlatform, QueryTime } from '../common/query-params';

export class UserParamsDto {
  @ApiProperty({ description: 'The CometChat user id', example: 'cometchat-uid-5' })
  @IsString()
  @Length(1, 255)
  uid: string;
}

/** `GET /users/:uid/presence?appId` */
export class PresenceQueryDto extends AppScopedQueryDto {}

/**
 * `GET /users/:uid/sessions?from&to&limit&cursor&appId`. Lists the sessions that overlap the
 * half-open range [from, to) (either bound may be omitted), newest connection first.
 */
export class SessionsQueryDto extends PageQueryDto {
  @QueryTime('Sessions overlapping [from, to); either bound may be omitted.')
  from?: Date;
  @QueryTime('End of the range, exclusive.')
  to?: Date;
  @QueryPlatform(
    'Only sessions on this platform, as the events name it (legacy `platform`: android, ios, web; current: e.g. javascript). Also limits totalOnlineMs.',
    'android',
  )
  platform?: string;
}

/** `GET /presence/online?appId&limit&cursor`: without appId, every app's online users. */
export class OnlineQueryDto extends PageQueryDto {}

const nullableTime = { type: String, format: 'date-time', nullable: true } as const;

export class OpenSessionDto {
  @ApiProperty({
    description: 'Legacy session_id, or `connectedAt:platform` for the current format',
  })
  sessionId: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Legacy `cometchat_device_id`; the current format carries none',
  })
  deviceId: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'web' }) platform: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The client's user agent (current format)",
  })
  userAgent: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The SDK's version: current format `appInfo.version`",
    example: '3.0.12',
  })
  sdkVersion: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Current format `appInfo.apiVersion`',
    example: 'v3.0',
  })
  apiVersion: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The web origin the client connected from: current format `appInfo.origin`',
  })
  origin: string | null;
  @ApiProperty(nullableTime) connectedAt: string | null;
  @ApiProperty({
    enum: ['event', 'inferred'],
    description:
      "'event' (its own connect or disconnect arrived), 'inferred' (only listed in a legacy " +
      'connections[]: connectedAt is its listed connected_at, else the listing time)',
  })
  openedBy: 'event' | 'inferred';
}

export class PresenceDto {
  @ApiProperty() uid: string;
  @ApiProperty() appId: string;
  @ApiProperty({ enum: ['online', 'offline'] }) status: 'online' | 'offline';
  @ApiProperty({
    format: 'date-time',
    description:
      'When the status last changed: the first event after the latest one with the other status',
  })
  since: string;
  @ApiProperty({
    ...nullableTime,
    description: "The latest event time of the user's connection events",
  })
  lastSeenAt: string | null;
  @ApiProperty({
    ...nullableTime,
    description: "The current format's `user.lastActiveAt`; null for legacy-only users",
  })
  lastActiveAt: string | null;
  @ApiProperty({ type: [OpenSessionDto], description: 'Open sessions only, oldest first' })
  sessions: OpenSessionDto[];
}

export class SessionDto extends OpenSessionDto {
  @ApiProperty({ ...nullableTime, description: 'null while the session is open' })
  disconnectedAt: string | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'null while open or when the connect time is unknown',
  })
  durationMs: number | null;
  @ApiProperty({
    enum: ['event', 'inferred'],
    nullable: true,
    description:
      "'event' (its disconnect arrived), 'inferred' (a later event showed it gone), null when open",
  })
  closedBy: 'event' | 'inferred' | null;
}

export class SessionsPageDto {
  @ApiProperty({ type: [SessionDto] }) items: SessionDto[];
  /**
   * The union of the sessions' intervals, each clipped to the range, so two devices online at the
   * same time count once: "how long was this user online", not "how much device time".
   */
  @ApiProperty({
    type: 'integer',
    description:
      'Time the user was online within [from, to), over every session in the range (not just ' +
      'this page); overlapping sessions count once; open sessions count until min(to, now)',
  })
  totalOnlineMs: number;
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export class OnlineUserDto {
  @ApiProperty() uid: string;
  @ApiProperty() appId: string;
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ type: [OpenSessionDto] }) sessions: OpenSessionDto[];
}

export class OnlinePageDto {
  @ApiProperty({ type: 'integer', description: 'Users online now, over every page' })
  count: number;
  @ApiProperty({ type: [OnlineUserDto], description: 'Ordered by appId, then uid' })
  items: OnlineUserDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}
