import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { AppScopedQueryDto, QueryPlatform, QueryTime } from '../common/query-params';

export const ACTIVITY_INTERVALS = ['day', 'week', 'month'] as const;
export type ActivityInterval = (typeof ACTIVITY_INTERVALS)[number];

/**
 * `GET /analytics/active-users?appId&from&to&interval&platform`. Buckets are UTC days, weeks
 * starting on Monday, or calendar months: the first holds `from`, the last holds the instant
 * before `to`. `to` defaults to now, `from` to 30 days, 12 weeks or 12 months before `to`.
 */
export class ActiveUsersQueryDto extends AppScopedQueryDto {
  @QueryTime('Default: 30 days (day), 12 weeks (week) or 12 months (month) before `to`.')
  from?: Date;
  @QueryTime('Default: now.')
  to?: Date;
  @ApiPropertyOptional({ enum: ACTIVITY_INTERVALS, default: 'day' })
  @IsOptional()
  @IsIn(ACTIVITY_INTERVALS, {
    message: `interval must be one of ${ACTIVITY_INTERVALS.join(', ')}`,
  })
  interval: ActivityInterval = 'day';
  @QueryPlatform(
    'Adds a breakdown of online users by platform: one platform as the events name it (android, ios, web, javascript…), or `all` for every platform seen in the window. Senders have no platform (messages carry none).',
    'all',
  )
  platform?: string;
}

export class PlatformOnlineDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The sessions' platform; null for sessions whose events named none",
  })
  platform: string | null;
  @ApiProperty({ type: 'integer' }) online: number;
}

export class ActiveUsersBucketDto {
  @ApiProperty({ format: 'date-time' }) start: string;
  @ApiProperty({ format: 'date-time' }) end: string;
  @ApiProperty({
    type: 'integer',
    description:
      'Distinct users with a session overlapping [start, end); an open session counts until now. 0 for buckets starting after now.',
  })
  online: number;
  @ApiProperty({
    type: 'integer',
    description: 'Distinct users who sent a message (edits and deletes are not messages)',
  })
  senders: number;
  @ApiPropertyOptional({ type: [PlatformOnlineDto], description: 'With `platform` only' })
  platforms?: PlatformOnlineDto[];
}

export class StickinessDto {
  @ApiProperty({ type: 'integer', description: 'Sum over the days of daily active users' })
  userDays: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Mean daily active users: userDays ÷ days (null when no day has begun)',
  })
  meanDaily: number | null;
  @ApiProperty({ type: 'integer', description: 'Distinct users active in the whole window' })
  distinct: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'meanDaily ÷ distinct: DAU/MAU for a month-long window (null when distinct is 0)',
  })
  ratio: number | null;
}

export class PlatformStickinessDto extends StickinessDto {
  @ApiProperty({ type: String, nullable: true }) platform: string | null;
}

export class ActiveUsersStickinessDto {
  @ApiProperty({
    type: 'integer',
    description: 'UTC days of the window that have begun (days starting after now are left out)',
  })
  days: number;
  @ApiProperty({ type: StickinessDto }) online: StickinessDto;
  @ApiProperty({ type: StickinessDto }) senders: StickinessDto;
  @ApiPropertyOptional({ type: [PlatformStickinessDto], description: 'With `platform` only' })
  platforms?: PlatformStickinessDto[];
}

export class ActiveUsersDto {
  @ApiProperty({ enum: ACTIVITY_INTERVALS }) interval: ActivityInterval;
  @ApiProperty({ format: 'date-time', description: 'Start of the first bucket' }) from: string;
  @ApiProperty({ format: 'date-time', description: 'End of the last bucket' }) to: string;
  @ApiProperty({ type: [ActiveUsersBucketDto] }) buckets: ActiveUsersBucketDto[];
  @ApiProperty({
    type: ActiveUsersStickinessDto,
    description:
      'Over the whole window [from, to): mean daily active users ÷ distinct active users',
  })
  stickiness: ActiveUsersStickinessDto;
}
