import { Injectable } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { EARLIEST_MS, LATEST_MS } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { Prisma } from '../generated/prisma/client';
import {
  ActiveUsersDto,
  ActiveUsersQueryDto,
  ActivityInterval,
  PlatformOnlineDto,
  StickinessDto,
} from './active-users.dto';
import { MAX_BUCKETS } from './concurrency.service';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05, a Monday: weeks are counted from it. */
const MONDAY_MS = 4 * DAY_MS;

/** The start of the UTC day, Monday-based week or calendar month holding `ms`. */
function bucketStart(interval: ActivityInterval, ms: number): number {
  if (interval === 'day') {
    return Math.floor(ms / DAY_MS) * DAY_MS;
  }
  if (interval === 'week') {
    return MONDAY_MS + Math.floor((ms - MONDAY_MS) / WEEK_MS) * WEEK_MS;
  }
  const d = new Date(ms);
  const start = new Date(0);
  start.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth(), 1); // not Date.UTC: years 1-99
  return start.getTime();
}

function addBuckets(interval: ActivityInterval, ms: number, n: number): number {
  if (interval !== 'month') {
    return ms + n * (interval === 'day' ? DAY_MS : WEEK_MS);
  }
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.getTime();
}

/** Buckets in the default window, the one holding `to` included. */
const DEFAULT_BUCKETS: Record<ActivityInterval, number> = { day: 30, week: 12, month: 12 };

/** A UTC day as PostgreSQL reads a date (years past 9999 included: the end of the last bucket). */
function dateText(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

interface CountRow {
  /** a bucket's index (0-based), the whole window (-1), the sum of daily counts (-2) or the number of days (-3) */
  i: number;
  kind: 'online' | 'platform' | 'sent' | 'days';
  platform: string;
  users: bigint;
}

const WINDOW = -1;
const DAILY = -2;
const DAYS = -3;

@Injectable()
export class ActiveUsersService {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Distinct users are summed from activity_counts: the users of a range of days [a, b) are the
   * (user, day) pairs with day in [a, b) whose previous active day is before a, i.e. each user's
   * first active day in the range. Days after an app's horizon (its latest event's day, through
   * which open sessions are stored) and up to today have only the users with open sessions.
   */
  async activeUsers(query: ActiveUsersQueryDto): Promise<ActiveUsersDto> {
    const { interval } = query;
    const buckets = this.buckets(query);
    const first = buckets[0]?.start ?? 0;
    const end = buckets.at(-1)?.end ?? 0;
    const breakdown = query.platform !== undefined;
    const starts = [...buckets.map((b) => dateText(b.start)), dateText(first)];
    const ends = [...buckets.map((b) => dateText(b.end)), dateText(end)];
    const app = query.appId ?? null;
    const platform = query.platform ?? null;
    const utc = (day: Prisma.Sql) => Prisma.sql`(${day}::timestamp AT TIME ZONE 'UTC')`;

    const rows = await this.prisma.$queryRaw<CountRow[]>`
      WITH b AS (
        SELECT i::int - 1 AS i, start, "end"
          FROM unnest(${starts}::date[], ${ends}::date[]) WITH ORDINALITY AS b(start, "end", i)
      ), bucket AS (
        SELECT CASE WHEN i = ${buckets.length} THEN ${WINDOW} ELSE i END AS i, start, "end" FROM b
      ), today AS (
        SELECT (now() AT TIME ZONE 'UTC')::date AS day
      ), h AS (
        SELECT app_id, day FROM activity_horizon
         WHERE (${app}::text IS NULL OR app_id = ${app}::text)
      ), kinds AS (
        SELECT c.* FROM activity_counts c JOIN h ON c.app_id = h.app_id
         WHERE c.kind IN ('online', 'sent')
            OR (c.kind = 'platform' AND (${platform}::text = 'all' OR c.platform = ${platform}::text))
      ), open_sessions AS (
        SELECT s.app_id, s.uid, COALESCE(s.platform, '') AS platform, s.connected_at, h.day AS horizon
          FROM h CROSS JOIN today
          JOIN sessions s ON s.app_id = h.app_id AND s.disconnected_at IS NULL
         WHERE h.day < today.day
      ), open_kinds AS (
        SELECT o.app_id, o.uid, o.connected_at, o.horizon, k.kind, k.platform
          FROM open_sessions o
         CROSS JOIN LATERAL (VALUES ('online', ''), ('platform', o.platform)) AS k(kind, platform)
         WHERE k.kind = 'online' OR ${platform}::text = 'all' OR k.platform = ${platform}::text
      ), stored AS (
        SELECT bucket.i, c.kind, c.platform, sum(c.users)::bigint AS users
          FROM bucket CROSS JOIN today
          JOIN h ON bucket.start <= h.day
          JOIN kinds c ON c.app_id = h.app_id AND c.day >= bucket.start AND c.day < bucket."end"
                      AND c.prev_day < bucket.start
         WHERE bucket.start <= today.day
         GROUP BY 1, 2, 3
      ), beyond_horizon AS (
        SELECT bucket.i, o.kind, o.platform, count(DISTINCT (o.app_id, o.uid))::bigint AS users
          FROM bucket CROSS JOIN today
          JOIN open_kinds o ON bucket.start > o.horizon AND o.connected_at < ${utc(Prisma.sql`bucket."end"`)}
         WHERE bucket.start <= today.day
         GROUP BY 1, 2, 3
      ), days AS (
        SELECT g::date AS day
          FROM today, generate_series(${dateText(first)}::date::timestamp,
                                      LEAST(${dateText(end)}::date - 1, today.day)::timestamp,
                                      interval '1 day') AS g
      ), daily AS (
        SELECT c.kind, c.platform, sum(c.users)::bigint AS users
          FROM days JOIN h ON days.day <= h.day
          JOIN kinds c ON c.app_id = h.app_id AND c.day = days.day
         GROUP BY 1, 2
        UNION ALL
        SELECT kind, platform, sum(users)::bigint
          FROM (SELECT days.day, o.kind, o.platform, count(DISTINCT (o.app_id, o.uid)) AS users
                  FROM days JOIN open_kinds o ON days.day > o.horizon
                                             AND o.connected_at < ${utc(Prisma.sql`(days.day + 1)`)}
                 GROUP BY 1, 2, 3) d
         GROUP BY 1, 2
      )
      SELECT i, kind, platform, users FROM stored
      UNION ALL SELECT i, kind, platform, users FROM beyond_horizon
      UNION ALL SELECT ${DAILY}::int, kind, platform, users FROM daily
      UNION ALL SELECT ${DAYS}::int, 'days', '', count(*) FROM days`;

    const sum = (i: number, kind: string, p = '') =>
      rows
        .filter((r) => r.i === i && r.kind === kind && r.platform === p)
        .reduce((a, r) => a + Number(r.users), 0);
    const platforms = breakdown
      ? [
          ...new Set([
            ...(platform === 'all' ? [] : [platform!]),
            ...rows.filter((r) => r.kind === 'platform').map((r) => r.platform),
          ]),
        ].sort()
      : [];
    const days = sum(DAYS, 'days');
    const stickiness = (kind: string, p = ''): StickinessDto => {
      const userDays = sum(DAILY, kind, p);
      const distinct = sum(WINDOW, kind, p);
      const meanDaily = days > 0 ? userDays / days : null;
      return {
        userDays,
        meanDaily,
        distinct,
        ratio: meanDaily === null || distinct === 0 ? null : meanDaily / distinct,
      };
    };
    const named = (p: string) => (p === '' ? null : p);
    return {
      interval,
      from: new Date(first).toISOString(),
      to: new Date(end).toISOString(),
      buckets: buckets.map((b, i) => ({
        start: new Date(b.start).toISOString(),
        end: new Date(b.end).toISOString(),
        online: sum(i, 'online'),
        senders: sum(i, 'sent'),
        ...(breakdown
          ? {
              platforms: platforms.map((p): PlatformOnlineDto => ({
                platform: named(p),
                online: sum(i, 'platform', p),
              })),
            }
          : {}),
      })),
      stickiness: {
        days,
        online: stickiness('online'),
        senders: stickiness('sent'),
        ...(breakdown
          ? {
              platforms: platforms.map((p) => ({
                platform: named(p),
                ...stickiness('platform', p),
              })),
            }
          : {}),
      },
    };
  }

  /** The buckets from the one holding `from` to the one holding the instant before `to`. */
  private buckets(query: ActiveUsersQueryDto): { start: number; end: number }[] {
    const { interval } = query;
    const to = (query.to ?? new Date()).getTime();
    const from =
      query.from?.getTime() ??
      addBuckets(interval, bucketStart(interval, to - 1), 1 - DEFAULT_BUCKETS[interval]);
    if (from >= to) {
      throw new BadQueryParameterError('from', 'from must be before to');
    }
    const first = bucketStart(interval, from);
    const range = '0001-01-01 to 9999-12-31 UTC';
    if (first < EARLIEST_MS) {
      throw new BadQueryParameterError(
        query.from ? 'from' : 'to',
        query.from
          ? `from (rounded down to its ${interval}) is before ${range}`
          : `to leaves no room for the default window before it: the range must lie within ${range}`,
      );
    }
    const last = bucketStart(interval, to - 1);
    if (addBuckets(interval, last, 1) > LATEST_MS + DAY_MS) {
      throw new BadQueryParameterError(
        'to',
        `to (rounded up to its ${interval}) is after ${range}`,
      );
    }
    const buckets: { start: number; end: number }[] = [];
    for (let start = first; start <= last; start = addBuckets(interval, start, 1)) {
      if (buckets.length === MAX_BUCKETS) {
        throw new BadQueryParameterError(
          'interval',
          `from..to holds more than ${MAX_BUCKETS} ${interval} buckets: use a larger interval or a shorter range`,
        );
      }
      buckets.push({ start, end: addBuckets(interval, start, 1) });
    }
    return buckets;
  }
}
