import { Injectable } from '@nestjs/common';
import { ClientBase } from 'pg';
import { Clock } from '../common/clock';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { DerivationStep } from '../ingest/derivation-step';
import { DerivedRowsWriter, StoredEvent } from '../ingest/stored-event';

const DAY_MS = 86_400_000;
/** A UTC day as PostgreSQL reads a date. */
export const dayText = (ms: number) =>
  new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

/**
 * The part every activity statement shares. Given `scope` (uid, from_day: the days from which
 * the user's activity is recomputed), `old` (their stored days from from_day on) and `fresh`
 * (what those days are now), it deletes and inserts the difference in activity_days and moves
 * activity_counts by the difference in (day, previous day) pairs of each user's chain: the
 * previous day of the first recomputed day is the last stored day before from_day, which does
 * not change. Returns the count rows it moved, so that emptied ones can be removed.
 */
const APPLY_DIFFERENCE = `
  chains AS (
    SELECT uid, kind, platform FROM fresh UNION SELECT uid, kind, platform FROM old
  ), before AS (
    SELECT ch.uid, ch.kind, ch.platform,
           COALESCE((SELECT max(a.day) FROM activity_days a
                      WHERE a.app_id = $1 AND a.uid = ch.uid AND a.kind = ch.kind
                        AND a.platform = ch.platform AND a.day < sc.from_day),
                    '-infinity'::date) AS day
      FROM chains ch JOIN scope sc ON sc.uid = ch.uid
  ), pairs AS (
    SELECT d.kind, d.platform, d.day,
           COALESCE(lag(d.day) OVER (PARTITION BY d.uid, d.kind, d.platform ORDER BY d.day), b.day) AS prev_day,
           1 AS n
      FROM fresh d JOIN before b USING (uid, kind, platform)
    UNION ALL
    SELECT d.kind, d.platform, d.day,
           COALESCE(lag(d.day) OVER (PARTITION BY d.uid, d.kind, d.platform ORDER BY d.day), b.day),
           -1
      FROM old d JOIN before b USING (uid, kind, platform)
  ), delta AS (
    SELECT kind, platform, day, prev_day, sum(n)::int AS users
      FROM pairs GROUP BY kind, platform, day, prev_day HAVING sum(n) <> 0
  ), removed AS (
    DELETE FROM activity_days a
     USING (SELECT uid, kind, platform, day FROM old
            EXCEPT SELECT uid, kind, platform, day FROM fresh) g
     WHERE a.app_id = $1 AND a.uid = g.uid AND a.kind = g.kind AND a.platform = g.platform
       AND a.day = g.day
  ), added AS (
    INSERT INTO activity_days (app_id, uid, kind, platform, day)
    SELECT $1, uid, kind, platform, day
      FROM (SELECT uid, kind, platform, day FROM fresh
            EXCEPT SELECT uid, kind, platform, day FROM old) g
     ORDER BY uid, kind, platform, day
  )
  INSERT INTO activity_counts (app_id, kind, platform, day, prev_day, users)
  SELECT $1, kind, platform, day, prev_day, users FROM delta
   ORDER BY kind, platform, day, prev_day
  ON CONFLICT (app_id, kind, platform, day, prev_day)
     DO UPDATE SET users = activity_counts.users + EXCLUDED.users
  RETURNING kind, platform, day::text AS day, prev_day::text AS prev_day, users`;

/**
 * Online days, recomputed from the sessions. A session [connected, disconnected) is online on
 * every UTC day it overlaps; one of no length, or whose connect was never seen (the instant of
 * its disconnect), on the day of that instant; an open one from its start through the horizon.
 * No day after the horizon is stored, so a time far in the future (a sender's clock, a forged
 * body: times up to 9999 are accepted) costs nothing here.
 * $2: users whose whole history is recomputed (every session may have changed); $3/$4: the
 * horizon before and after this batch: when it moved on, every other user with an open session
 * gets the days after the old horizon (their closed sessions all ended by then).
 */
const ONLINE = `
  WITH scope AS (
    SELECT uid, '-infinity'::date AS from_day, true AS whole FROM unnest($2::text[]) AS u(uid)
    UNION ALL
    SELECT DISTINCT s.uid, $3::date + 1, false
      FROM sessions s
     WHERE $4::date > $3::date AND s.app_id = $1 AND s.disconnected_at IS NULL
       AND s.uid <> ALL ($2::text[])
  ), spans AS (
    SELECT sc.uid, sc.from_day, COALESCE(s.platform, '') AS platform,
           (COALESCE(s.connected_at, s.disconnected_at) AT TIME ZONE 'UTC')::date AS first_day,
           LEAST(CASE WHEN s.disconnected_at IS NULL
                        THEN GREATEST((s.connected_at AT TIME ZONE 'UTC')::date, $4::date)
                      WHEN s.connected_at IS NULL OR s.disconnected_at <= s.connected_at
                        THEN (COALESCE(s.connected_at, s.disconnected_at) AT TIME ZONE 'UTC')::date
                      ELSE ((s.disconnected_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date
                 END, $4::date) AS last_day
      FROM scope sc
      JOIN sessions s ON s.app_id = $1 AND s.uid = sc.uid
     WHERE sc.whole OR s.disconnected_at IS NULL
  ), fresh AS (
    SELECT DISTINCT sp.uid, k.kind, k.platform, g.day::date AS day
      FROM spans sp
     CROSS JOIN LATERAL (VALUES ('online', ''), ('platform', sp.platform)) AS k(kind, platform)
     CROSS JOIN LATERAL generate_series(GREATEST(sp.first_day, sp.from_day)::timestamp,
                                        sp.last_day::timestamp, interval '1 day') AS g(day)
  ), old AS (
    SELECT a.uid, a.kind, a.platform, a.day
      FROM scope sc
      JOIN activity_days a ON a.app_id = $1 AND a.uid = sc.uid AND a.kind IN ('online', 'platform')
                          AND a.day >= sc.from_day
  ), ${APPLY_DIFFERENCE}`;

/**
 * Days with a message sent, from the messages table (the first event of a message fixes its
 * sender and sent time): only ever added. $2: the batch's message ids, or null for all of them.
 */
const SENT = `
  WITH sent AS (
    SELECT DISTINCT m.sender AS uid, (m.sent_at AT TIME ZONE 'UTC')::date AS day
      FROM messages m
     WHERE m.app_id = $1 AND ($2::text[] IS NULL OR m.id = ANY ($2::text[]))
  ), scope AS (
    SELECT uid, min(day) AS from_day FROM sent GROUP BY uid
  ), old AS (
    SELECT a.uid, a.kind, a.platform, a.day
      FROM scope sc
      JOIN activity_days a ON a.app_id = $1 AND a.uid = sc.uid AND a.kind = 'sent'
                          AND a.platform = '' AND a.day >= sc.from_day
  ), fresh AS (
    SELECT uid, kind, platform, day FROM old
    UNION SELECT uid, 'sent', '', day FROM sent
  ), ${APPLY_DIFFERENCE}`;

interface MovedCount {
  kind: string;
  platform: string;
  day: string;
  prev_day: string;
  users: number;
}

export interface ActivityChanges {
  /** Users whose sessions may have changed; 'all' rebuilds every user of the app. */
  users: string[] | 'all';
  /** Messages new to the batch; 'all' takes every message of the app. */
  messageIds: string[] | 'all';
  /** The latest event time of the batch (epoch ms), or null when none carried one. */
  latestEventAt: number | null;
}

/**
 * Keeps activity_days and activity_counts equal to what the sessions and messages say, for one
 * app. One writer per app at a time (an advisory lock), since the counts depend on each user's
 * whole chain of days. Exact whatever the order and batching of events: every changed user is
 * recomputed from the stored sessions, not patched.
 */
export async function deriveActivity(
  tx: ClientBase,
  appId: string,
  changes: ActivityChanges,
): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('activity:' || $1, 0))`, [appId]);
  const { rows } = await tx.query<{ old: string | null; new: string | null }>(
    `SELECT h.day::text AS old,
            GREATEST(h.day, $2::date)::text AS new
       FROM (SELECT $1::text AS app_id) x
       LEFT JOIN activity_horizon h ON h.app_id = x.app_id`,
    [appId, changes.latestEventAt === null ? null : dayText(changes.latestEventAt)],
  );
  const horizon = rows[0];
  if (horizon.new !== null && horizon.new !== horizon.old) {
    await tx.query(
      `INSERT INTO activity_horizon (app_id, day) VALUES ($1, $2::date)
       ON CONFLICT (app_id) DO UPDATE SET day = GREATEST(activity_horizon.day, EXCLUDED.day)`,
      [appId, horizon.new],
    );
  }
  const moved: MovedCount[] = [];
  const users =
    changes.users === 'all'
      ? (
          await tx.query<{ uid: string }>(`SELECT DISTINCT uid FROM sessions WHERE app_id = $1`, [
            appId,
          ])
        ).rows.map((r) => r.uid)
      : changes.users;
  const horizonMoved = horizon.old !== null && horizon.new !== horizon.old;
  if (horizon.new !== null && (users.length > 0 || horizonMoved)) {
    const result = await tx.query<MovedCount>(ONLINE, [
      appId,
      users,
      horizon.old ?? horizon.new,
      horizon.new,
    ]);
    moved.push(...result.rows);
  }
  if (changes.messageIds === 'all' || changes.messageIds.length > 0) {
    const result = await tx.query<MovedCount>(SENT, [
      appId,
      changes.messageIds === 'all' ? null : changes.messageIds,
    ]);
    moved.push(...result.rows);
  }
  const emptied = moved.filter((m) => m.users === 0);
  if (emptied.length > 0) {
    await tx.query(
      `DELETE FROM activity_counts c
        USING unnest($2::text[], $3::text[], $4::date[], $5::date[]) AS x(kind, platform, day, prev_day)
        WHERE c.app_id = $1 AND c.kind = x.kind AND c.platform = x.platform AND c.day = x.day
          AND c.prev_day = x.prev_day AND c.users = 0`,
      [
        appId,
        emptied.map((m) => m.kind),
        emptied.map((m) => m.platform),
        emptied.map((m) => m.day),
        emptied.map((m) => m.prev_day),
      ],
    );
  }
}

/**
 * Each batch's users with connection events, its new messages and its latest event time, which
 * moves the horizon no further than `notAfter` (epoch ms): an event time from the future is a
 * sender's error and must not make every open session online until then.
 */
export async function writeActivity(
  tx: ClientBase,
  events: StoredEvent[],
  notAfter: number,
): Promise<void> {
  if (events.length === 0) {
    return;
  }
  const users = new Set<string>();
  const messageIds = new Set<string>();
  let latestEventAt: number | null = null;
  for (const e of events) {
    if (e.connection) {
      users.add(e.connection.uid);
    }
    if (e.message) {
      messageIds.add(e.message.id);
    }
    if (e.eventAt !== null && (latestEventAt === null || e.eventAt > latestEventAt)) {
      latestEventAt = e.eventAt;
    }
  }
  // A batch holds one app's events (the runner claims them per app).
  await deriveActivity(tx, events[0].appId, {
    users: [...users],
    messageIds: [...messageIds],
    latestEventAt: latestEventAt === null ? null : Math.min(latestEventAt, notAfter),
  });
}

/** Active-user days: after connections, so it reads the batch's sessions as they now are. */
@Injectable()
export class ActivityDerivation implements DerivationStep {
  readonly name = 'activity';
  /** The horizon goes no further than tomorrow (UTC, by the service's clock). */
  readonly derive: DerivedRowsWriter = (tx, events) =>
    writeActivity(tx, events, this.clock.now().getTime() + DAY_MS);

  constructor(
    runner: DerivationRunner,
    private readonly clock: Clock,
  ) {
    runner.register(this);
  }
}
