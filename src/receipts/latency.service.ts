import { Injectable } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { assertRange } from '../common/query-params';
import { AppConfig } from '../config/app-config';
import { PrismaService } from '../db/prisma.service';
import { ReadReplica } from '../db/read-replica.service';
import { Prisma } from '../generated/prisma/client';
import { Bin, summarise } from './latency-histogram';
import { latencyBinSql } from './latency-tally';
import {
  LatencyBucketDto,
  LatencyInterval,
  LatencyQueryDto,
  LatencyReportDto,
  LatencyStatsDto,
} from './latency.dto';

export type ReceiptKind = 'delivered' | 'read';

export const MAX_SERIES_BUCKETS = 2000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const BUCKET_MS: Record<LatencyInterval, number> = { hour: HOUR, day: DAY };

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

/**
 * Read and delivery latency: receipt time minus the message's sentAt. Exact (percentile_cont over
 * the receipts) up to LATENCY_EXACT_LIMIT receipts, from the hourly/daily histogram beyond.
 */
@Injectable()
export class LatencyService {
  constructor(
    private readonly db: ReadReplica,
    private readonly config: AppConfig,
  ) {}

  /** The primary's client, or the replica's while a @PrefersReplica route reads there. */
  private get prisma(): PrismaService {
    return this.db.prisma;
  }

  async report(kind: ReceiptKind, query: LatencyQueryDto): Promise<LatencyReportDto> {
    assertRange(query.from, query.to);
    if (await this.isLarge(kind, query)) {
      return this.fromHistogram(kind, query);
    }
    const where = filters(kind, query);
    const [total] = await this.prisma.$queryRaw<StatsRow[]>`
      SELECT ${STATS}
        FROM receipts
       WHERE ${where}`;
    const report: LatencyReportDto = { ...toStats(total), approximate: false };
    if (query.interval) {
      report.series = await this.series(query.interval, where, query);
    }
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
    if (!from || !last || from > last) {
      return [];
    }

    const firstStart = Math.floor(from.getTime() / bucketMs) * bucketMs;
    const lastStart = Math.floor(last.getTime() / bucketMs) * bucketMs;
    const buckets = (lastStart - firstStart) / bucketMs + 1;
    if (buckets > MAX_SERIES_BUCKETS) {
      tooManyBuckets(interval, buckets);
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

  /**
   * Whether to answer from the histogram: only filters it keeps (app, receiver type, implied)
   * and more receipts than exact percentiles can sort quickly.
   */
  private async isLarge(kind: ReceiptKind, q: LatencyQueryDto): Promise<boolean> {
    if (q.conversationId !== undefined || q.sender !== undefined || q.reader !== undefined) {
      return false;
    }
    const [{ n }] = await this.prisma.$queryRaw<{ n: bigint | null }[]>`
      SELECT sum(count) AS n FROM latency_histogram WHERE ${wholePieces(kind, q, true)}`;
    return Number(n ?? 0) > this.config.LATENCY_EXACT_LIMIT;
  }

  /** Percentiles within 1% and exact counts and means, from the histogram. */
  private async fromHistogram(kind: ReceiptKind, q: LatencyQueryDto): Promise<LatencyReportDto> {
    const bins = await this.histogramBins(kind, q, null);
    const report: LatencyReportDto = { ...summarise(bins), approximate: true };
    if (q.interval) {
      const byBucket = new Map<number, Bin[]>();
      for (const b of await this.histogramBins(kind, q, q.interval)) {
        const start = b.start!.getTime();
        byBucket.set(start, [...(byBucket.get(start) ?? []), b]);
      }
      const starts = [...byBucket.keys()].sort((a, b) => a - b);
      const bucketMs = BUCKET_MS[q.interval];
      const first = q.from ? Math.floor(q.from.getTime() / bucketMs) * bucketMs : starts[0];
      const last = q.to ? Math.floor((q.to.getTime() - 1) / bucketMs) * bucketMs : starts.at(-1);
      report.series = [];
      if (first !== undefined && last !== undefined) {
        if ((last - first) / bucketMs + 1 > MAX_SERIES_BUCKETS) {
          tooManyBuckets(q.interval, (last - first) / bucketMs + 1);
        }
        for (let start = first; start <= last; start += bucketMs) {
          report.series.push({
            start: new Date(start).toISOString(),
            ...summarise(byBucket.get(start) ?? []),
          });
        }
      }
    }
    return report;
  }

  private async histogramBins(
    kind: ReceiptKind,
    q: LatencyQueryDto,
    interval: LatencyInterval | null,
  ): Promise<(Bin & { start?: Date })[]> {
    const { raw } = pieces(q, interval !== 'hour');
    const group = interval
      ? Prisma.sql`date_trunc(${interval}, start, 'UTC')`
      : Prisma.sql`NULL::timestamptz`;
    const rows = await this.prisma.$queryRaw<
      { start: Date | null; bin: number; count: bigint; sum_ms: bigint }[]
    >`
      SELECT ${group} AS start, bin, sum(count) AS count, sum(sum_ms) AS sum_ms
        FROM (
          SELECT start, bin, count, sum_ms FROM latency_histogram
           WHERE ${wholePieces(kind, q, interval !== 'hour')}
          UNION ALL
          SELECT at, ${Prisma.raw(latencyBinSql('latency_ms'))}, 1, COALESCE(latency_ms, 0) FROM receipts
           WHERE ${filters(kind, q)} AND (at < ${raw[0]} OR at >= ${raw[1]})
        ) pieces
       GROUP BY 1, 2`;
    return rows.map((r) => ({
      start: r.start ?? undefined,
      bin: r.bin,
      count: Number(r.count),
      sumMs: Number(r.sum_ms),
    }));
  }
}

/**
 * The window cut into pieces the histogram holds whole (UTC days, then hours) and the raw edges
 * shorter than an hour, which are binned from the receipts themselves.
 */
function pieces(q: LatencyQueryDto, withDays: boolean) {
  const ceil = (t: number, unit: number) => Math.ceil(t / unit) * unit;
  const floor = (t: number, unit: number) => Math.floor(t / unit) * unit;
  const from = q.from?.getTime() ?? 0;
  const to = q.to?.getTime() ?? Date.UTC(9999, 0);
  const hoursFrom = ceil(from, HOUR);
  const hoursTo = Math.max(hoursFrom, floor(to, HOUR));
  const daysFrom = withDays ? Math.min(ceil(hoursFrom, DAY), hoursTo) : hoursTo;
  const daysTo = withDays ? Math.max(daysFrom, floor(hoursTo, DAY)) : hoursTo;
  const d = (t: number) => new Date(t);
  return {
    days: [d(daysFrom), d(daysTo)],
    hours: [d(hoursFrom), d(daysFrom), d(daysTo), d(hoursTo)],
    raw: [d(hoursFrom), d(hoursTo)],
  };
}

/** The histogram rows covering the window's whole days and hours. */
function wholePieces(kind: ReceiptKind, q: LatencyQueryDto, withDays: boolean): Prisma.Sql {
  const { days, hours } = pieces(q, withDays);
  return Prisma.sql`${histogramFilters(kind, q)}
    AND ((span_hours = 24 AND start >= ${days[0]} AND start < ${days[1]})
      OR (span_hours = 1 AND ((start >= ${hours[0]} AND start < ${hours[1]})
                           OR (start >= ${hours[2]} AND start < ${hours[3]}))))`;
}

function histogramFilters(kind: ReceiptKind, q: LatencyQueryDto): Prisma.Sql {
  const conditions = [Prisma.sql`kind = ${kind}`];
  if (q.appId !== undefined) {
    conditions.push(Prisma.sql`app_id = ${q.appId}`);
  }
  if (q.receiverType) {
    conditions.push(Prisma.sql`receiver_type = ${q.receiverType}`);
  }
  if (!q.includeImplied) {
    conditions.push(Prisma.sql`NOT implied`);
  }
  return Prisma.join(conditions, ' AND ');
}

function filters(kind: ReceiptKind, q: LatencyQueryDto): Prisma.Sql {
  const conditions = [Prisma.sql`kind = ${kind}`];
  if (q.appId !== undefined) {
    conditions.push(Prisma.sql`app_id = ${q.appId}`);
  }
  if (q.from) {
    conditions.push(Prisma.sql`at >= ${q.from}`);
  }
  if (q.to) {
    conditions.push(Prisma.sql`at < ${q.to}`);
  }
  if (q.receiverType) {
    conditions.push(Prisma.sql`receiver_type = ${q.receiverType}`);
  }
  if (q.conversationId !== undefined) {
    conditions.push(Prisma.sql`conversation_id = ${q.conversationId}`);
  }
  if (q.sender !== undefined) {
    conditions.push(Prisma.sql`message_sender = ${q.sender}`);
  }
  if (q.reader !== undefined) {
    conditions.push(Prisma.sql`reader = ${q.reader}`);
  }
  if (!q.includeImplied) {
    conditions.push(Prisma.sql`NOT implied`);
  }
  return Prisma.join(conditions, ' AND ');
}

function tooManyBuckets(interval: LatencyInterval, buckets: number): never {
  throw new BadQueryParameterError(
    'interval',
    `interval=${interval} would give ${buckets} buckets, more than ${MAX_SERIES_BUCKETS}: narrow from/to or use a longer interval`,
  );
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
