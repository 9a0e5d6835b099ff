import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { AppScopedQueryDto, QueryTime } from '../common/query-params';

export const CONCURRENCY_INTERVALS = ['minute', 'hour', 'day'] as const;
export type ConcurrencyInterval = (typeof CONCURRENCY_INTERVALS)[number];

/**
 * `GET /analytics/concurrency?from&to&interval&appId`. `to` defaults to now; `from` defaults to
 * one hour (minute buckets), 24 hours (hour) or 30 days (day) before `to`. Buckets are aligned
 * to the interval in UTC: the first starts at `from` rounded down, the last ends at `to` rounded
 * up, at most 1000 of them. Without appId every app counts, a user being an (appId, uid) pair.
 */
export class ConcurrencyQueryDto extends AppScopedQueryDto {
  @QueryTime('Default: 1 hour (minute), 24 hours (hour) or 30 days (day) before `to`.')
  from?: Date;
  @QueryTime('Default: now.')
  to?: Date;
  @ApiPropertyOptional({ enum: CONCURRENCY_INTERVALS, default: 'hour' })
  @IsOptional()
  @IsIn(CONCURRENCY_INTERVALS, {
    message: `interval must be one of ${CONCURRENCY_INTERVALS.join(', ')}`,
  })
  interval: ConcurrencyInterval = 'hour';
}

export class ConcurrencyBucketDto {
  @ApiProperty({ format: 'date-time' }) start: string;
  @ApiProperty({ format: 'date-time' }) end: string;
  @ApiProperty({
    type: 'integer',
    description:
      'Users online just before `end` (at now for the bucket holding now; 0 for future buckets)',
  })
  onlineAtEnd: number;
  @ApiProperty({
    type: 'integer',
    description: 'Most users online at the same instant within [start, end)',
  })
  peak: number;
}

export class ConcurrencyDto {
  @ApiProperty({ enum: CONCURRENCY_INTERVALS }) interval: ConcurrencyInterval;
  @ApiProperty({ type: [ConcurrencyBucketDto] }) buckets: ConcurrencyBucketDto[];
}
