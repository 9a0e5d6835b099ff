import { Transform } from 'class-transformer';
import { IsBoolean, IsDate, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { AppScopedQueryDto, ToDate } from '../common/query-params';

export const LATENCY_INTERVALS = ['hour', 'day'] as const;
export type LatencyInterval = (typeof LATENCY_INTERVALS)[number];

/** "true"/"false" (or 1/0); anything else stays as given and fails IsBoolean. */
function ToBoolean() {
  return Transform(({ value }: { value: unknown }) => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value;
  });
}

/** Filters of /analytics/read-latency and /analytics/delivery-latency. */
export class LatencyQueryDto extends AppScopedQueryDto {
  /** Receipt time, inclusive. */
  @IsOptional()
  @ToDate()
  @IsDate({ message: 'from must be an ISO-8601 time or a Unix time' })
  from?: Date;
  /** Receipt time, exclusive, so consecutive windows never count a receipt twice. */
  @IsOptional()
  @ToDate()
  @IsDate({ message: 'to must be an ISO-8601 time or a Unix time' })
  to?: Date;
  @IsOptional()
  @IsIn(['user', 'group'], { message: 'receiverType must be user or group' })
  receiverType?: 'user' | 'group';
  @IsOptional() @IsString() @Length(1, 255) conversationId?: string;
  /** The message's sender. */
  @IsOptional() @IsString() @Length(1, 255) sender?: string;
  /** The receipt's sender: who got or read the message. */
  @IsOptional() @IsString() @Length(1, 255) reader?: string;
  /** Count receipts implied by cumulative receipts (and deliveries implied by reads). */
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'includeImplied must be true or false' })
  includeImplied = true;
  @IsOptional()
  @IsIn(LATENCY_INTERVALS, { message: 'interval must be hour or day' })
  interval?: LatencyInterval;
}

export interface LatencyStatsDto {
  /** Receipts whose message is known, so whose latency is. */
  count: number;
  /** Receipts in the filter whose message never arrived. */
  unmatched: number;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface LatencyBucketDto extends LatencyStatsDto {
  /** Start of the UTC hour or day. */
  start: string;
}

export interface LatencyReportDto extends LatencyStatsDto {
  /** Exact percentiles from the receipts themselves. */
  approximate: boolean;
  series?: LatencyBucketDto[];
}
