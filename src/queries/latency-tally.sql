-- The SQL src/receipts/latency-tally.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- tallyLatencyHistogram
WITH pending AS (
     SELECT app_id, message_id, reader, kind, tallied_at, tallied_receiver_type, tallied_implied,
            tallied_latency_ms
       FROM receipts
      WHERE app_id = $1 AND (tallied_at IS NULL OR tallied_at <> at
  OR tallied_receiver_type IS DISTINCT FROM receiver_type
  OR tallied_implied <> implied OR tallied_latency_ms IS DISTINCT FROM latency_ms)
      ORDER BY message_id, reader, kind
        FOR UPDATE
   ), done AS (
     UPDATE receipts x
        SET tallied_at = x.at, tallied_receiver_type = x.receiver_type, tallied_implied = x.implied,
            tallied_latency_ms = x.latency_ms
       FROM pending p
      WHERE x.app_id = $1 AND x.app_id = p.app_id AND x.message_id = p.message_id
        AND x.reader = p.reader AND x.kind = p.kind
     RETURNING x.app_id, x.kind, x.at, x.receiver_type, x.implied, x.latency_ms,
               p.tallied_at AS old_at, p.tallied_receiver_type AS old_receiver_type,
               p.tallied_implied AS old_implied, p.tallied_latency_ms AS old_latency_ms
   ), moves AS (
     SELECT app_id, kind, at, receiver_type, implied, latency_ms, 1 AS sign FROM done
     UNION ALL
     SELECT app_id, kind, old_at, old_receiver_type, old_implied, old_latency_ms, -1 FROM done
      WHERE old_at IS NOT NULL
   )

INSERT INTO latency_histogram AS h (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
SELECT r.app_id, r.kind, s.hours, date_trunc(s.unit, r.at, 'UTC'), COALESCE(r.receiver_type, ''),
       r.implied, (CASE WHEN r.latency_ms IS NULL THEN -2 WHEN r.latency_ms <= 0 THEN -1 ELSE floor(ln(r.latency_ms) / ln(1.02)) END)::smallint, sum(r.sign), COALESCE(sum(r.sign * r.latency_ms), 0)
  FROM moves r CROSS JOIN (VALUES (1, 'hour'), (24, 'day')) AS s(hours, unit)
 GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING sum(r.sign) <> 0 OR COALESCE(sum(r.sign * r.latency_ms), 0) <> 0
 ORDER BY 1, 2, 3, 4, 5, 6, 7
ON CONFLICT (app_id, kind, span_hours, start, receiver_type, implied, bin)
DO UPDATE SET count = h.count + EXCLUDED.count, sum_ms = h.sum_ms + EXCLUDED.sum_ms;
