-- The SQL src/analytics/active-users.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ActiveUsersService.activeUsers

WITH b AS (
  SELECT i::int - 1 AS i, start, "end"
    FROM unnest($1::date[], $2::date[]) WITH ORDINALITY AS b(start, "end", i)
), bucket AS (
  SELECT CASE WHEN i = $3 THEN $4 ELSE i END AS i, start, "end" FROM b
), today AS (
  SELECT (now() AT TIME ZONE 'UTC')::date AS day
), h AS (
  SELECT app_id, day FROM activity_horizon
   WHERE ($5::text IS NULL OR app_id = $6::text)
), kinds AS (
  SELECT c.* FROM activity_counts c JOIN h ON c.app_id = h.app_id
   WHERE c.kind IN ('online', 'sent')
      OR (c.kind = 'platform' AND ($7::text = 'all' OR c.platform = $8::text))
), open_sessions AS (
  SELECT s.app_id, s.uid, COALESCE(s.platform, '') AS platform, s.connected_at, h.day AS horizon
    FROM h CROSS JOIN today
    JOIN sessions s ON s.app_id = h.app_id AND s.disconnected_at IS NULL
   WHERE h.day < today.day
), open_kinds AS (
  SELECT o.app_id, o.uid, o.connected_at, o.horizon, k.kind, k.platform
    FROM open_sessions o
   CROSS JOIN LATERAL (VALUES ('online', ''), ('platform', o.platform)) AS k(kind, platform)
   WHERE k.kind = 'online' OR $9::text = 'all' OR k.platform = $10::text
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
    JOIN open_kinds o ON bucket.start > o.horizon AND o.connected_at < (bucket."end"::timestamp AT TIME ZONE 'UTC')
   WHERE bucket.start <= today.day
   GROUP BY 1, 2, 3
), days AS (
  SELECT g::date AS day
    FROM today, generate_series($11::date::timestamp,
                                LEAST($12::date - 1, today.day)::timestamp,
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
                                       AND o.connected_at < ((days.day + 1)::timestamp AT TIME ZONE 'UTC')
           GROUP BY 1, 2, 3) d
   GROUP BY 1, 2
)
SELECT i, kind, platform, users FROM stored
UNION ALL SELECT i, kind, platform, users FROM beyond_horizon
UNION ALL SELECT $13::int, kind, platform, users FROM daily
UNION ALL SELECT $14::int, 'days', '', count(*) FROM days;
