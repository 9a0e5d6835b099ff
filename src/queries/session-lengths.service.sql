-- The SQL src/analytics/session-lengths.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- SessionLengthsService.sessionLengths

WITH s AS (
  SELECT COALESCE(platform, '') AS platform, closed_by,
         CASE WHEN disconnected_at IS NOT NULL
              THEN GREATEST(0, round(EXTRACT(EPOCH FROM disconnected_at - connected_at) * 1000))::bigint
         END AS ms
    FROM sessions
   WHERE connected_at >= $1::timestamptz AND connected_at < $2::timestamptz
     AND app_id = $3

)
SELECT GROUPING(platform) AS overall, COALESCE(platform, '') AS platform, closed_by,
       count(*) AS count, round(avg(ms))::bigint AS mean_ms,
       percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS p,
       max(ms) AS max_ms
  FROM s
 GROUP BY GROUPING SETS ((platform, closed_by), (closed_by))
 ORDER BY 1 DESC, 2, 3;

-- SessionLengthsService.sessionLengths

WITH s AS (
  SELECT COALESCE(platform, '') AS platform, closed_by,
         CASE WHEN disconnected_at IS NOT NULL
              THEN GREATEST(0, round(EXTRACT(EPOCH FROM disconnected_at - connected_at) * 1000))::bigint
         END AS ms
    FROM sessions
   WHERE connected_at >= $1::timestamptz AND connected_at < $2::timestamptz
     AND app_id = $3
     AND platform = $4
)
SELECT GROUPING(platform) AS overall, COALESCE(platform, '') AS platform, closed_by,
       count(*) AS count, round(avg(ms))::bigint AS mean_ms,
       percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS p,
       max(ms) AS max_ms
  FROM s
 GROUP BY GROUPING SETS ((platform, closed_by), (closed_by))
 ORDER BY 1 DESC, 2, 3;
