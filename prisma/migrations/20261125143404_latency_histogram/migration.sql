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
-- per span, sorted by key so concurrent batches take row locks in the same order.
CREATE FUNCTION latency_histogram_add(sign INT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
  SELECT format($f$
    INSERT INTO latency_histogram AS h (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
    SELECT app_id, kind, span.hours,
           date_trunc(CASE span.hours WHEN 1 THEN 'hour' ELSE 'day' END, at, 'UTC'),
           COALESCE(receiver_type, ''), implied, latency_bin(latency_ms),
           %1$s * count(*), %1$s * COALESCE(sum(latency_ms), 0)
      FROM %2$s CROSS JOIN (VALUES (1), (24)) AS span(hours)
     GROUP BY 1, 2, 3, 4, 5, 6, 7
     ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (app_id, kind, span_hours, start, receiver_type, implied, bin)
    DO UPDATE SET count = h.count + EXCLUDED.count, sum_ms = h.sum_ms + EXCLUDED.sum_ms
  $f$, sign, CASE WHEN sign > 0 THEN 'new_rows' ELSE 'old_rows' END)
$$;

CREATE FUNCTION receipts_to_histogram() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE latency_histogram_add(-1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE latency_histogram_add(1);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER receipts_histogram_insert AFTER INSERT ON receipts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION receipts_to_histogram();
CREATE TRIGGER receipts_histogram_update AFTER UPDATE ON receipts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION receipts_to_histogram();
CREATE TRIGGER receipts_histogram_delete AFTER DELETE ON receipts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION receipts_to_histogram();

-- Receipts already stored when this migration runs.
CREATE TEMPORARY TABLE new_rows ON COMMIT DROP AS SELECT * FROM receipts;
DO $$ BEGIN EXECUTE latency_histogram_add(1); END $$;
