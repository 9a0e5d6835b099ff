import { Injectable } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { effectiveRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { ReadReplica } from '../db/read-replica.service';
import { Prisma } from '../generated/prisma/client';
import { ConcurrencyDto, ConcurrencyInterval, ConcurrencyQueryDto } from './concurrency.dto';

const STEP_MS: Record<ConcurrencyInterval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};
const DEFAULT_SPAN_MS: Record<ConcurrencyInterval, number> = {
  minute: 3_600_000,
  hour: 86_400_000,
  day: 30 * 86_400_000,
};
export const MAX_BUCKETS = 1000;

interface BucketRow {
  start: Date;
  online_at_end: number;
  peak: number;
}

@Injectable()
export class ConcurrencyService {
  constructor(private readonly db: ReadReplica) {}

  /** The primary's client, or the replica's while a @PrefersReplica route reads there. */
  private get prisma(): PrismaService {
    return this.db.prisma;
  }

  /**
   * Each user's sessions are merged into disjoint intervals first (a user on two devices is one
   * user), open sessions running on. Every interval start is +1 and every end -1; the running sum
   * over time is the number of users online. A bucket's peak is the highest level it reaches
   * (including the level carried in at its start); its onlineAtEnd is the level it ends with.
   */
  async concurrency(query: ConcurrencyQueryDto): Promise<ConcurrencyDto> {
    const { interval } = query;
    const step = STEP_MS[interval];
    const { from, to, first } = effectiveRange(query, DEFAULT_SPAN_MS[interval], step);
    if (from >= to) {
      throw new BadQueryParameterError('from', 'from must be before to');
    }
    const count = Math.ceil((to - first) / step);
    if (count > MAX_BUCKETS) {
      throw new BadQueryParameterError(
        'interval',
        `from..to holds ${count} ${interval} buckets, at most ${MAX_BUCKETS}: use a larger interval or a shorter range`,
      );
    }
    const firstAt = new Date(first).toISOString();
    const lastStartAt = new Date(first + (count - 1) * step).toISOString();
    const endAt = new Date(first + count * step).toISOString();
    const stepText = `1 ${interval}`;
    const app = query.appId === undefined ? Prisma.empty : Prisma.sql`AND app_id = ${query.appId}`;

    const rows = await this.prisma.$queryRaw<BucketRow[]>`
      WITH merged AS (
        SELECT unnest(range_agg(tstzrange(connected_at,
                 GREATEST(connected_at, COALESCE(disconnected_at, 'infinity'))))) AS r
          FROM sessions
         WHERE connected_at IS NOT NULL AND connected_at < ${endAt}::timestamptz
           AND (disconnected_at IS NULL OR disconnected_at > ${firstAt}::timestamptz) ${app}
         GROUP BY app_id, uid
      ), points AS (
        SELECT lower(r) AS t, 1 AS d FROM merged
        UNION ALL SELECT upper(r), -1 FROM merged
        UNION ALL SELECT b, 0 FROM generate_series(${firstAt}::timestamptz, ${lastStartAt}::timestamptz,
                                                   ${stepText}::interval) AS b
      ), levels AS (
        SELECT t, sum(d) OVER (ORDER BY t) AS level FROM points
      ), in_buckets AS (
        SELECT date_bin(${stepText}::interval, t, ${firstAt}::timestamptz) AS start, t, level
          FROM levels
         WHERE t >= ${firstAt}::timestamptz AND t < ${endAt}::timestamptz
      )
      SELECT start,
             CASE WHEN start > now() THEN 0 ELSE (array_agg(level ORDER BY t DESC))[1] END::int AS online_at_end,
             CASE WHEN start > now() THEN 0 ELSE max(level) END::int AS peak
        FROM in_buckets
       GROUP BY start
       ORDER BY start`;

    return {
      interval,
      buckets: rows.map((r) => ({
        start: r.start.toISOString(),
        end: new Date(r.start.getTime() + step).toISOString(),
        onlineAtEnd: r.online_at_end,
        peak: r.peak,
      })),
    };
  }
}
