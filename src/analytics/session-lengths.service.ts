import { Injectable } from '@nestjs/common';
import { assertRange, effectiveRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { Prisma } from '../generated/prisma/client';
import {
  LengthDistributionDto,
  SessionLengthsDto,
  SessionLengthsQueryDto,
  SessionLengthsSummaryDto,
} from './session-lengths.dto';

const DEFAULT_SPAN_MS = 30 * 86_400_000;

interface GroupRow {
  /** 1 for the rows over every platform */
  overall: number;
  platform: string;
  closed_by: 'event' | 'inferred' | null;
  count: bigint;
  mean_ms: bigint | null;
  p: (bigint | string | number)[] | null;
  max_ms: bigint | null;
}

const num = (v: bigint | string | number | null | undefined) =>
  v === null || v === undefined ? null : Number(v);

function distribution(row: GroupRow | undefined): LengthDistributionDto {
  return {
    count: Number(row?.count ?? 0),
    meanMs: num(row?.mean_ms),
    p50Ms: num(row?.p?.[0]),
    p90Ms: num(row?.p?.[1]),
    p99Ms: num(row?.p?.[2]),
    maxMs: num(row?.max_ms),
  };
}

function summary(rows: GroupRow[]): SessionLengthsSummaryDto {
  const of = (closedBy: GroupRow['closed_by']) => rows.find((r) => r.closed_by === closedBy);
  return {
    sessions: rows.reduce((n, r) => n + Number(r.count), 0),
    open: Number(of(null)?.count ?? 0),
    closed: distribution(of('event')),
    inferred: distribution(of('inferred')),
  };
}

@Injectable()
export class SessionLengthsService {
  constructor(private readonly prisma: PrismaService) {}

  /** Exact percentiles (percentile_disc) of the lengths of the sessions that started in [from, to). */
  async sessionLengths(query: SessionLengthsQueryDto): Promise<SessionLengthsDto> {
    assertRange(query.from, query.to);
    const { from, to } = effectiveRange(query, DEFAULT_SPAN_MS);
    const fromAt = new Date(from).toISOString();
    const toAt = new Date(to).toISOString();
    const rows = await this.prisma.$queryRaw<GroupRow[]>`
      WITH s AS (
        SELECT COALESCE(platform, '') AS platform, closed_by,
               CASE WHEN disconnected_at IS NOT NULL
                    THEN GREATEST(0, round(EXTRACT(EPOCH FROM disconnected_at - connected_at) * 1000))::bigint
               END AS ms
          FROM sessions
         WHERE connected_at >= ${fromAt}::timestamptz AND connected_at < ${toAt}::timestamptz
           ${query.appId === undefined ? Prisma.empty : Prisma.sql`AND app_id = ${query.appId}`}
           ${query.platform === undefined ? Prisma.empty : Prisma.sql`AND platform = ${query.platform}`}
      )
      SELECT GROUPING(platform) AS overall, COALESCE(platform, '') AS platform, closed_by,
             count(*) AS count, round(avg(ms))::bigint AS mean_ms,
             percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS p,
             max(ms) AS max_ms
        FROM s
       GROUP BY GROUPING SETS ((platform, closed_by), (closed_by))
       ORDER BY 1 DESC, 2, 3`;
    const overall = rows.filter((r) => r.overall === 1);
    const platforms = [...new Set(rows.filter((r) => r.overall === 0).map((r) => r.platform))];
    return {
      from: fromAt,
      to: toAt,
      ...summary(overall),
      platforms: platforms.map((p) => ({
        platform: p === '' ? null : p,
        ...summary(rows.filter((r) => r.overall === 0 && r.platform === p)),
      })),
    };
  }
}
