import { BadRequestException, Injectable } from '@nestjs/common';
import { assertRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { Prisma } from '../generated/prisma/client';
import {
  LatencyBucketDto,
  LatencyInterval,
  LatencyQueryDto,
  LatencyReportDto,
  LatencyStatsDto,
} from './latency.dto';

export type ReceiptKind = 'delivered' | 'read';

export const MAX_SERIES_BUCKETS = 2000;
const BUCKET_MS: Record<LatencyInterval, number> = { hour: 3_600_000, day: 86_400_000 };

interface StatsRow {
  count: bigint;
  unmatched: bigint;
  mean_ms: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/**
 * The aggregates of one set of receipts. percentile_cont ignores the null latencies of receipts
 * whose message is unknown; those are counted as unmatched instead. Rounding goes through numeric
 * so halves round away from zero on every platform.
 */
const STATS = Prisma.sql`
  count(latency_ms) AS count,
  count(*) FILTER (WHERE sent_at IS NULL) AS unmatched,
  round(avg(latency_ms))::float8 AS mean_ms,
  round((percentile_cont(0.50) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p50_ms,
  round((percentile_cont(0.90) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p90_ms,
  round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p95_ms,
  round((percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p99_ms,
  max(latency_ms)::float8 AS max_ms`;

/** Read and delivery latency: receipt time minus the message's sentAt, exact, from the receipts table. */
@Injectable()
export class LatencyService {
  constructor(private readonly prisma: PrismaService) {}

  async report(kind: ReceiptKind, query: LatencyQueryDto): Promise<LatencyReportDto> {
    assertRange(query.from, query.to);
    const where = filters(kind, query);
    const [total] = await this.prisma.$queryRaw<StatsRow[]>`
      SELECT ${STATS}
        FROM receipts
       WHERE ${where}`;
    const report: LatencyReportDto = { ...toStats(total), approximate: false };
    if (query.interval) report.series = await this.series(query.interval, where, query);
    return report;
  }

  /** One bucket per UTC hour or day of the window, empty ones included. */
  private async series(
    interval: LatencyInterval,
    where: Prisma.Sql,
    query: LatencyQueryDto,
  ): Promise<LatencyBucketDto[]> {
    const bucketMs = BUCKET_MS[interval];
    let from = query.from;
    // `to` is exclusive: the last bucket is the one holding the instant just before it.
    let last = query.to && new Date(query.to.getTime() - 1);
    if (!from || !last) {
      const [extent] = await this.prisma.$queryRaw<{ first: Date | null; last: Date | null }[]>`
        SELECT min(at) AS first, max(at) AS last FROM receipts WHERE ${where}`;
      from ??= extent.first ?? undefined;
      last ??= extent.last ?? undefined;
    }
    if (!from || !last || from > last) return [];

    const firstStart = Math.floor(from.getTime() / bucketMs) * bucketMs;
    const lastStart = Math.floor(last.getTime() / bucketMs) * bucketMs;
    const buckets = (lastStart - firstStart) / bucketMs + 1;
    if (buckets > MAX_SERIES_BUCKETS) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `interval=${interval} would give ${buckets} buckets, more than ${MAX_SERIES_BUCKETS}: narrow from/to or use a longer interval`,
        field: 'interval',
      });
    }

    const rows = await this.prisma.$queryRaw<(StatsRow & { start: Date })[]>`
      WITH buckets AS (
        SELECT generate_series(${new Date(firstStart)}::timestamptz, ${new Date(lastStart)}::timestamptz,
                               make_interval(hours => ${bucketMs / 3_600_000}::int)) AS start
      ), stats AS (
        SELECT date_trunc(${interval}, at, 'UTC') AS start, ${STATS}
          FROM receipts
         WHERE ${where}
         GROUP BY 1
      )
      SELECT b.start, COALESCE(s.count, 0) AS count, COALESCE(s.unmatched, 0) AS unmatched,
             s.mean_ms, s.p50_ms, s.p90_ms, s.p95_ms, s.p99_ms, s.max_ms
        FROM buckets b
        LEFT JOIN stats s USING (start)
       ORDER BY b.start`;
    return rows.map((r) => ({ start: r.start.toISOString(), ...toStats(r) }));
  }
}

function filters(kind: ReceiptKind, q: LatencyQueryDto): Prisma.Sql {
  const conditions = [Prisma.sql`kind = ${kind}`];
  if (q.appId !== undefined) conditions.push(Prisma.sql`app_id = ${q.appId}`);
  if (q.from) conditions.push(Prisma.sql`at >= ${q.from}`);
  if (q.to) conditions.push(Prisma.sql`at < ${q.to}`);
  if (q.receiverType) conditions.push(Prisma.sql`receiver_type = ${q.receiverType}`);
  if (q.conversationId !== undefined)
    conditions.push(Prisma.sql`conversation_id = ${q.conversationId}`);
  if (q.sender !== undefined) conditions.push(Prisma.sql`message_sender = ${q.sender}`);
  if (q.reader !== undefined) conditions.push(Prisma.sql`reader = ${q.reader}`);
  if (!q.includeImplied) conditions.push(Prisma.sql`NOT implied`);
  return Prisma.join(conditions, ' AND ');
}

function toStats(r: StatsRow): LatencyStatsDto {
  return {
    count: Number(r.count),
    unmatched: Number(r.unmatched),
    meanMs: r.mean_ms,
    p50Ms: r.p50_ms,
    p90Ms: r.p90_ms,
    p95Ms: r.p95_ms,
    p99Ms: r.p99_ms,
    maxMs: r.max_ms,
  };
}
