-- The SQL src/analytics/activity.derivation.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- deriveActivity

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
),
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
RETURNING kind, platform, day::text AS day, prev_day::text AS prev_day, users;

-- deriveActivity

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
),
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
RETURNING kind, platform, day::text AS day, prev_day::text AS prev_day, users;

-- deriveActivity
INSERT INTO activity_horizon (app_id, day) VALUES ($1, $2::date)
ON CONFLICT (app_id) DO UPDATE SET day = GREATEST(activity_horizon.day, EXCLUDED.day);

-- deriveActivity
SELECT h.day::text AS old,
     GREATEST(h.day, $2::date)::text AS new
FROM (SELECT $1::text AS app_id) x
LEFT JOIN activity_horizon h ON h.app_id = x.app_id;

-- deriveActivity
SELECT pg_advisory_xact_lock(hashtextextended('activity:' || $1, 0));
