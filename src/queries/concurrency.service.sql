-- The SQL src/analytics/concurrency.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ConcurrencyService.concurrency

WITH merged AS (
  SELECT unnest(range_agg(tstzrange(connected_at,
           GREATEST(connected_at, COALESCE(disconnected_at, 'infinity'))))) AS r
    FROM sessions
   WHERE connected_at IS NOT NULL AND connected_at < $1::timestamptz
     AND (disconnected_at IS NULL OR disconnected_at > $2::timestamptz) AND app_id = $3
   GROUP BY app_id, uid
), points AS (
  SELECT lower(r) AS t, 1 AS d FROM merged
  UNION ALL SELECT upper(r), -1 FROM merged
  UNION ALL SELECT b, 0 FROM generate_series($4::timestamptz, $5::timestamptz,
                                             $6::interval) AS b
), levels AS (
  SELECT t, sum(d) OVER (ORDER BY t) AS level FROM points
), in_buckets AS (
  SELECT date_bin($7::interval, t, $8::timestamptz) AS start, t, level
    FROM levels
   WHERE t >= $9::timestamptz AND t < $10::timestamptz
)
SELECT start,
       CASE WHEN start > now() THEN 0 ELSE (array_agg(level ORDER BY t DESC))[1] END::int AS online_at_end,
       CASE WHEN start > now() THEN 0 ELSE max(level) END::int AS peak
  FROM in_buckets
 GROUP BY start
 ORDER BY start;
