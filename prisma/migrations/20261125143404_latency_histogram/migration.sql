-- CreateTable
CREATE TABLE "latency_histogram" (
    "app_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "span_hours" SMALLINT NOT NULL,
    "start" TIMESTAMPTZ(3) NOT NULL,
    "receiver_type" TEXT NOT NULL,
    "implied" BOOLEAN NOT NULL,
    "bin" SMALLINT NOT NULL,
    "count" BIGINT NOT NULL,
    "sum_ms" BIGINT NOT NULL,

    CONSTRAINT "latency_histogram_pkey" PRIMARY KEY ("app_id","kind","span_hours","start","receiver_type","implied","bin")
);

-- CreateIndex
CREATE INDEX "latency_histogram_kind_span_hours_start_idx" ON "latency_histogram"("kind", "span_hours", "start");

-- Latency bins: -2 message unknown, -1 zero (or negative, clock skew) ms, else the 2% log bin.
CREATE FUNCTION latency_bin(latency_ms BIGINT) RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN latency_ms IS NULL THEN -2
              WHEN latency_ms <= 0 THEN -1
              ELSE floor(ln(latency_ms) / ln(1.02))::smallint END
$$;

-- The histogram follows every change to receipts, in the same transaction. Statement-level
-- triggers with transition tables fold a whole multi-row statement into one grouped upsert
-- (hour and day rows at once), sorted by key so concurrent batches lock rows in one order.
-- Static SQL, so PL/pgSQL keeps the plans; an update that leaves a receipt in its bin nets out.
CREATE FUNCTION latency_histogram_apply() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO latency_histogram AS h (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
    SELECT r.app_id, r.kind, s.hours, date_trunc(s.unit, r.at, 'UTC'), COALESCE(r.receiver_type, ''),
           r.implied, latency_bin(r.latency_ms), count(*), COALESCE(sum(r.latency_ms), 0)
      FROM new_rows r CROSS JOIN (VALUES (1, 'hour'), (24, 'day')) AS s(hours, unit)
     GROUP BY 1, 2, 3, 4, 5, 6, 7
     ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (app_id, kind, span_hours, start, receiver_type, implied, bin)
    DO UPDATE SET count = h.count + EXCLUDED.count, sum_ms = h.sum_ms + EXCLUDED.sum_ms;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO latency_histogram AS h (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
    SELECT r.app_id, r.kind, s.hours, date_trunc(s.unit, r.at, 'UTC'), COALESCE(r.receiver_type, ''),
           r.implied, latency_bin(r.latency_ms), sum(r.sign), COALESCE(sum(r.sign * r.latency_ms), 0)
      FROM (SELECT app_id, kind, at, receiver_type, implied, latency_ms, 1 AS sign FROM new_rows
            UNION ALL
            SELECT app_id, kind, at, receiver_type, implied, latency_ms, -1 FROM old_rows) r
      CROSS JOIN (VALUES (1, 'hour'), (24, 'day')) AS s(hours, unit)
     GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(r.sign) <> 0 OR COALESCE(sum(r.sign * r.latency_ms), 0) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (app_id, kind, span_hours, start, receiver_type, implied, bin)
    DO UPDATE SET count = h.count + EXCLUDED.count, sum_ms = h.sum_ms + EXCLUDED.sum_ms;
  ELSE
    INSERT INTO latency_histogram AS h (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
    SELECT r.app_id, r.kind, s.hours, date_trunc(s.unit, r.at, 'UTC'), COALESCE(r.receiver_type, ''),
           r.implied, latency_bin(r.latency_ms), -count(*), -COALESCE(sum(r.latency_ms), 0)
      FROM old_rows r CROSS JOIN (VALUES (1, 'hour'), (24, 'day')) AS s(hours, unit)
     GROUP BY 1, 2, 3, 4, 5, 6, 7
     ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (app_id, kind, span_hours, start, receiver_type, implied, bin)
    DO UPDATE SET count = h.count + EXCLUDED.count, sum_ms = h.sum_ms + EXCLUDED.sum_ms;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER receipts_histogram_insert AFTER INSERT ON receipts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION latency_histogram_apply();
CREATE TRIGGER receipts_histogram_update AFTER UPDATE ON receipts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION latency_histogram_apply();
CREATE TRIGGER receipts_histogram_delete AFTER DELETE ON receipts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION latency_histogram_apply();

-- Receipts already stored when this migration runs.
INSERT INTO latency_histogram (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
SELECT r.app_id, r.kind, s.hours, date_trunc(s.unit, r.at, 'UTC'), COALESCE(r.receiver_type, ''),
       r.implied, latency_bin(r.latency_ms), count(*), COALESCE(sum(r.latency_ms), 0)
  FROM receipts r CROSS JOIN (VALUES (1, 'hour'), (24, 'day')) AS s(hours, unit)
 GROUP BY 1, 2, 3, 4, 5, 6, 7;
