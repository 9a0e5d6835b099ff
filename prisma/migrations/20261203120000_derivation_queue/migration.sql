-- Ingest as a log: a webhook's transaction appends its raw event and a queue row; derivation
-- takes queue rows with FOR UPDATE SKIP LOCKED and deletes them in the transaction that writes
-- the derived rows, so an event is derived exactly once whatever order ids commit in.
CREATE TABLE "derivation_queue" (
    "app_id" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "derivation_queue_pkey" PRIMARY KEY ("app_id","event_id")
);

CREATE INDEX "derivation_queue_event_id_idx" ON "derivation_queue"("event_id");

-- Events whose derivation failed on their own content (kept raw; rederive retries them).
CREATE TABLE "derivation_failures" (
    "app_id" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,
    "failed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error" TEXT NOT NULL,

    CONSTRAINT "derivation_failures_pkey" PRIMARY KEY ("app_id","event_id")
);
