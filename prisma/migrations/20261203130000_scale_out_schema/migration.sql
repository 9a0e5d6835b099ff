-- Scale-out schema (issue 12). One schema for plain PostgreSQL and for Citus distributed by app_id:
-- app_id leads every primary and unique key, the raw tables are partitioned by month so retention
-- drops whole partitions, and no table keeps a statement trigger (Citus cannot run transition
-- tables on a distributed table): the latency histogram is kept by derivation.

-- 1. The latency histogram, kept by derivation. A receipt remembers what the histogram counts
-- for it (tallied_*); derivation tallies the rows whose current values differ (see
-- src/receipts/latency-tally.ts). Rows stored so far were counted by the triggers.
DROP TRIGGER "receipts_histogram_insert" ON "receipts";
DROP TRIGGER "receipts_histogram_update" ON "receipts";
DROP TRIGGER "receipts_histogram_delete" ON "receipts";
DROP FUNCTION latency_histogram_apply();
DROP FUNCTION latency_bin(BIGINT);

ALTER TABLE "receipts" ADD COLUMN "tallied_at" TIMESTAMPTZ(3),
ADD COLUMN "tallied_receiver_type" TEXT,
ADD COLUMN "tallied_implied" BOOLEAN,
ADD COLUMN "tallied_latency_ms" BIGINT;
UPDATE "receipts"
   SET "tallied_at" = "at", "tallied_receiver_type" = "receiver_type",
       "tallied_implied" = "implied", "tallied_latency_ms" = "latency_ms";
-- The receipts the histogram does not count as they are: a handful per batch, found by index.
CREATE INDEX "receipts_untallied_idx" ON "receipts"("app_id")
 WHERE "tallied_at" IS NULL OR "tallied_at" <> "at"
    OR "tallied_receiver_type" IS DISTINCT FROM "receiver_type"
    OR "tallied_implied" <> "implied" OR "tallied_latency_ms" IS DISTINCT FROM "latency_ms";

-- 2. webhook_events: partitioned by the UTC month it was received in. Redeliveries are caught by
-- the unique keys within a month (and across a month's first hour by the writer, which also looks
-- in the month before): CometChat retries within about 40 s.
ALTER TABLE "webhook_events" RENAME TO "webhook_events_unpartitioned";
ALTER TABLE "webhook_events_unpartitioned" RENAME CONSTRAINT "webhook_events_pkey" TO "webhook_events_unpartitioned_pkey";
ALTER INDEX "webhook_events_app_id_event_at_id_idx" RENAME TO "webhook_events_unpartitioned_1";
ALTER INDEX "webhook_events_app_id_trigger_event_at_idx" RENAME TO "webhook_events_unpartitioned_2";
ALTER INDEX "webhook_events_app_id_uid_event_at_idx" RENAME TO "webhook_events_unpartitioned_3";
ALTER INDEX "webhook_events_app_id_body_sha256_key" RENAME TO "webhook_events_unpartitioned_4";
ALTER INDEX "webhook_events_app_id_natural_key_key" RENAME TO "webhook_events_unpartitioned_5";
ALTER SEQUENCE "webhook_events_id_seq" OWNED BY NONE;

CREATE TABLE "webhook_events" (
    "id" BIGINT NOT NULL DEFAULT nextval('webhook_events_id_seq'),
    "app_id" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "webhook" TEXT,
    "uid" TEXT,
    "event_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "received_month" DATE NOT NULL DEFAULT (date_trunc('month', (now() AT TIME ZONE 'UTC')))::date,
    "body_sha256" BYTEA NOT NULL,
    "natural_key" TEXT,
    "body" JSONB NOT NULL,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("app_id","id","received_month")
) PARTITION BY RANGE ("received_month");
ALTER SEQUENCE "webhook_events_id_seq" OWNED BY "webhook_events"."id";

CREATE INDEX "webhook_events_app_id_event_at_id_idx" ON "webhook_events"("app_id", "event_at" DESC, "id" DESC);
CREATE INDEX "webhook_events_app_id_trigger_event_at_idx" ON "webhook_events"("app_id", "trigger", "event_at" DESC);
CREATE INDEX "webhook_events_app_id_uid_event_at_idx" ON "webhook_events"("app_id", "uid", "event_at" DESC);
CREATE UNIQUE INDEX "webhook_events_app_id_body_sha256_received_month_key" ON "webhook_events"("app_id", "body_sha256", "received_month");
CREATE UNIQUE INDEX "webhook_events_app_id_natural_key_received_month_key" ON "webhook_events"("app_id", "natural_key", "received_month");

-- 3. connection_events: partitioned by the event's own month (its unique key holds that time).
ALTER TABLE "connection_events" RENAME TO "connection_events_unpartitioned";
ALTER TABLE "connection_events_unpartitioned" RENAME CONSTRAINT "connection_events_pkey" TO "connection_events_unpartitioned_pkey";
ALTER INDEX "connection_events_app_id_uid_at_idx" RENAME TO "connection_events_unpartitioned_1";
ALTER INDEX "connection_events_app_id_uid_session_key_action_at_key" RENAME TO "connection_events_unpartitioned_2";
ALTER SEQUENCE "connection_events_id_seq" OWNED BY NONE;

CREATE TABLE "connection_events" (
    "id" BIGINT NOT NULL DEFAULT nextval('connection_events_id_seq'),
    "app_id" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "session_key" TEXT NOT NULL,
    "device_id" TEXT,
    "platform" TEXT,
    "connected_at" TIMESTAMPTZ(3),
    "open_sessions" TEXT[],
    "last_active_at" TIMESTAMPTZ(3),
    "event_id" BIGINT NOT NULL,
    "user_agent" TEXT,
    "sdk_version" TEXT,
    "api_version" TEXT,
    "origin" TEXT,

    CONSTRAINT "connection_events_pkey" PRIMARY KEY ("app_id","id","at")
) PARTITION BY RANGE ("at");
ALTER SEQUENCE "connection_events_id_seq" OWNED BY "connection_events"."id";

CREATE INDEX "connection_events_app_id_uid_at_idx" ON "connection_events"("app_id", "uid", "at");
CREATE UNIQUE INDEX "connection_events_app_id_uid_session_key_action_at_key" ON "connection_events"("app_id", "uid", "session_key", "action", "at");

-- 4. Partitions: a default one each (times outside every month partition: far past, far future),
-- and one per UTC month from the oldest stored row to two months ahead. The service keeps
-- creating months ahead (src/db/partitions.ts); `npm run retention` drops old ones.
CREATE TABLE "webhook_events_default" PARTITION OF "webhook_events" DEFAULT;
CREATE TABLE "connection_events_default" PARTITION OF "connection_events" DEFAULT;
DO $$
DECLARE
  first_month DATE;
  m DATE;
BEGIN
  SELECT date_trunc('month', LEAST(min("received_at"), now()) AT TIME ZONE 'UTC')::date
    INTO first_month FROM "webhook_events_unpartitioned";
  m := GREATEST(first_month, (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '10 years')::date);
  WHILE m <= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months')::date LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF "webhook_events" FOR VALUES FROM (%L) TO (%L)',
                   'webhook_events_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
    m := (m + interval '1 month')::date;
  END LOOP;
  SELECT date_trunc('month', LEAST(min("at"), now()) AT TIME ZONE 'UTC')::date
    INTO first_month FROM "connection_events_unpartitioned";
  -- Older events than ten years stay in the default partition.
  m := GREATEST(first_month, (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '10 years')::date);
  WHILE m <= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months')::date LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF "connection_events" FOR VALUES FROM (%L) TO (%L)',
                   'connection_events_' || to_char(m, 'YYYY_MM'),
                   m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    m := (m + interval '1 month')::date;
  END LOOP;
END $$;

INSERT INTO "webhook_events" ("id", "app_id", "trigger", "webhook", "uid", "event_at", "received_at",
                              "received_month", "body_sha256", "natural_key", "body")
SELECT "id", "app_id", "trigger", "webhook", "uid", "event_at", "received_at",
       date_trunc('month', "received_at" AT TIME ZONE 'UTC')::date, "body_sha256", "natural_key", "body"
  FROM "webhook_events_unpartitioned";
DROP TABLE "webhook_events_unpartitioned";

INSERT INTO "connection_events" SELECT "id", "app_id", "uid", "action", "at", "status", "session_key",
       "device_id", "platform", "connected_at", "open_sessions", "last_active_at", "event_id",
       "user_agent", "sdk_version", "api_version", "origin"
  FROM "connection_events_unpartitioned";
DROP TABLE "connection_events_unpartitioned";

-- 5. What retention has dropped: a full rebuild from the log cannot go back past it.
CREATE TABLE "retention_horizon" (
    "table_name" TEXT NOT NULL,
    "dropped_before" TIMESTAMPTZ(3) NOT NULL,
    "ran_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "retention_horizon_pkey" PRIMARY KEY ("table_name")
);
