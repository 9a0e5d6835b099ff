-- The SQL src/receipts/latency.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- LatencyService.isLarge

  SELECT sum(count) AS n FROM latency_histogram WHERE kind = $1 AND app_id = $2
AND ((span_hours = 24 AND start >= $3 AND start < $4)
  OR (span_hours = 1 AND ((start >= $5 AND start < $6)
                       OR (start >= $7 AND start < $8))));

-- LatencyService.isLarge

  SELECT sum(count) AS n FROM latency_histogram WHERE kind = $1 AND app_id = $2 AND receiver_type = $3
AND ((span_hours = 24 AND start >= $4 AND start < $5)
  OR (span_hours = 1 AND ((start >= $6 AND start < $7)
                       OR (start >= $8 AND start < $9))));

-- LatencyService.report

    SELECT
count(latency_ms) AS count,
count(*) FILTER (WHERE sent_at IS NULL) AS unmatched,
round(avg(latency_ms))::float8 AS mean_ms,
round((percentile_cont(0.50) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p50_ms,
round((percentile_cont(0.90) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p90_ms,
round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p95_ms,
round((percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p99_ms,
max(latency_ms)::float8 AS max_ms
      FROM receipts
     WHERE kind = $1 AND app_id = $2 AND at >= $3 AND at < $4 AND reader = $5;

-- LatencyService.report

    SELECT
count(latency_ms) AS count,
count(*) FILTER (WHERE sent_at IS NULL) AS unmatched,
round(avg(latency_ms))::float8 AS mean_ms,
round((percentile_cont(0.50) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p50_ms,
round((percentile_cont(0.90) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p90_ms,
round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p95_ms,
round((percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p99_ms,
max(latency_ms)::float8 AS max_ms
      FROM receipts
     WHERE kind = $1 AND app_id = $2 AND at >= $3 AND at < $4 AND receiver_type = $5;

-- LatencyService.report

    SELECT
count(latency_ms) AS count,
count(*) FILTER (WHERE sent_at IS NULL) AS unmatched,
round(avg(latency_ms))::float8 AS mean_ms,
round((percentile_cont(0.50) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p50_ms,
round((percentile_cont(0.90) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p90_ms,
round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p95_ms,
round((percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p99_ms,
max(latency_ms)::float8 AS max_ms
      FROM receipts
     WHERE kind = $1 AND app_id = $2 AND at >= $3 AND at < $4;

-- LatencyService.series

    WITH buckets AS (
      SELECT generate_series($1::timestamptz, $2::timestamptz,
                             make_interval(hours => $3::int)) AS start
    ), stats AS (
      SELECT date_trunc($4, at, 'UTC') AS start,
count(latency_ms) AS count,
count(*) FILTER (WHERE sent_at IS NULL) AS unmatched,
round(avg(latency_ms))::float8 AS mean_ms,
round((percentile_cont(0.50) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p50_ms,
round((percentile_cont(0.90) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p90_ms,
round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p95_ms,
round((percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::numeric)::float8 AS p99_ms,
max(latency_ms)::float8 AS max_ms
        FROM receipts
       WHERE kind = $5 AND app_id = $6 AND at >= $7 AND at < $8 AND receiver_type = $9
       GROUP BY 1
    )
    SELECT b.start, COALESCE(s.count, 0) AS count, COALESCE(s.unmatched, 0) AS unmatched,
           s.mean_ms, s.p50_ms, s.p90_ms, s.p95_ms, s.p99_ms, s.max_ms
      FROM buckets b
      LEFT JOIN stats s USING (start)
     ORDER BY b.start;
