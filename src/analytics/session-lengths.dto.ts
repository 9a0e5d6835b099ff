import { ApiProperty } from '@nestjs/swagger';
import { AppScopedQueryDto, QueryPlatform, QueryTime } from '../common/query-params';

/**
 * `GET /analytics/sessions?appId&from&to&platform`: the sessions that started in [from, to)
 * (`to` defaults to now, `from` to 30 days before it).
 */
export class SessionLengthsQueryDto extends AppScopedQueryDto {
  @QueryTime('Sessions that started at or after this. Default: 30 days before `to`.')
  from?: Date;
  @QueryTime('Sessions that started before this. Default: now.')
  to?: Date;
  @QueryPlatform(
    'Only sessions on this platform, as the events name it (android, ios, web…)',
    'android',
  )
  platform?: string;
}

export class LengthDistributionDto {
  @ApiProperty({ type: 'integer' }) count: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Rounded to the millisecond' })
  meanMs: number | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'percentile_disc: the length of an actual session',
  })
  p50Ms: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) p90Ms: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) p99Ms: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) maxMs: number | null;
}

export class SessionLengthsSummaryDto {
  @ApiProperty({ type: 'integer', description: 'Sessions that started in the window' })
  sessions: number;
  @ApiProperty({ type: 'integer', description: 'Of those, still open: no length, left out' })
  open: number;
  @ApiProperty({
    type: LengthDistributionDto,
    description: 'Sessions closed by their own disconnect: exact lengths',
  })
  closed: LengthDistributionDto;
  @ApiProperty({
    type: LengthDistributionDto,
    description:
      'Sessions whose disconnect never came, closed when a later event showed them gone: each length is an upper bound',
  })
  inferred: LengthDistributionDto;
}

export class PlatformSessionLengthsDto extends SessionLengthsSummaryDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The sessions' platform; null for sessions whose events named none",
  })
  platform: string | null;
}

export class SessionLengthsDto extends SessionLengthsSummaryDto {
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: [PlatformSessionLengthsDto], description: 'The same per platform' })
  platforms: PlatformSessionLengthsDto[];
}
