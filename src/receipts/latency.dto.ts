import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { AppScopedQueryDto, QueryTime } from '../common/query-params';

export const LATENCY_INTERVALS = ['hour', 'day'] as const;
export type LatencyInterval = (typeof LATENCY_INTERVALS)[number];

/** "true"/"false" (or 1/0); anything else stays as given and fails IsBoolean. */
function ToBoolean() {
  return Transform(({ value }: { value: unknown }) => {
    if (value === 'true' || value === '1') {
      return true;
    }
    if (value === 'false' || value === '0') {
      return false;
    }
    return value;
  });
}

/** Filters of /analytics/read-latency and /analytics/delivery-latency. */
export class LatencyQueryDto extends AppScopedQueryDto {
  @QueryTime('Receipt time, inclusive.')
  from?: Date;
  @QueryTime('Receipt time, exclusive, so consecutive windows never count a receipt twice.')
  to?: Date;
  @ApiPropertyOptional({ enum: ['user', 'group'] })
  @IsOptional()
  @IsIn(['user', 'group'], { message: 'receiverType must be user or group' })
  receiverType?: 'user' | 'group';
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) conversationId?: string;
  @ApiPropertyOptional({ description: "The message's sender" })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  sender?: string;
  @ApiPropertyOptional({ description: "The receipt's sender: who got or read the message" })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  reader?: string;
  @ApiPropertyOptional({
    type: Boolean,
    default: true,
    description: 'Count receipts implied by cumulative receipts (and deliveries implied by reads)',
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'includeImplied must be true or false' })
  includeImplied = true;
  @ApiPropertyOptional({
    enum: LATENCY_INTERVALS,
    description: 'Adds a `series` of the same statistics per UTC hour or day',
  })
  @IsOptional()
  @IsIn(LATENCY_INTERVALS, { message: 'interval must be hour or day' })
  interval?: LatencyInterval;
}

const ms = { type: 'integer', nullable: true, description: 'null when count is 0' } as const;

export class LatencyStatsDto {
  @ApiProperty({
    type: 'integer',
    description: 'Receipts whose message is known, so whose latency is',
  })
  count: number;
  @ApiProperty({
    type: 'integer',
    description: 'Receipts in the filter whose message never arrived',
  })
  unmatched: number;
  @ApiProperty(ms) meanMs: number | null;
  @ApiProperty(ms) p50Ms: number | null;
  @ApiProperty(ms) p90Ms: number | null;
  @ApiProperty(ms) p95Ms: number | null;
  @ApiProperty(ms) p99Ms: number | null;
  @ApiProperty(ms) maxMs: number | null;
}

export class LatencyBucketDto extends LatencyStatsDto {
  @ApiProperty({ format: 'date-time', description: 'Start of the UTC hour or day' })
  start: string;
}

export class LatencyReportDto extends LatencyStatsDto {
  @ApiProperty({
    description:
      'false: exact percentiles from the receipts themselves; true: from the hourly/daily ' +
      'histogram (within 1% relative error), for windows over LATENCY_EXACT_LIMIT receipts',
  })
  approximate: boolean;
  @ApiPropertyOptional({ type: [LatencyBucketDto], description: 'With `interval` only' })
  series?: LatencyBucketDto[];
}
