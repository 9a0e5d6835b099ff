-- CreateTable
CREATE TABLE "webhook_events" (
    "id" BIGSERIAL NOT NULL,
    "app_id" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "webhook" TEXT,
    "uid" TEXT,
    "event_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "body_sha256" BYTEA NOT NULL,
    "natural_key" TEXT,
    "body" JSONB NOT NULL,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rejected_events" (
    "id" BIGSERIAL NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "app_id" TEXT,
    "trigger" TEXT,
    "reason" TEXT NOT NULL,
    "field" TEXT,
    "content_type" TEXT,
    "body" BYTEA NOT NULL,
    "replayed_at" TIMESTAMPTZ(3),

    CONSTRAINT "rejected_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "app_id" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "receiver" TEXT NOT NULL,
    "receiver_type" TEXT NOT NULL,
    "category" TEXT,
    "type" TEXT,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "edited_at" TIMESTAMPTZ(3),
    "deleted_at" TIMESTAMPTZ(3),
    "event_id" BIGINT NOT NULL,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("app_id","id")
);

-- CreateTable
CREATE TABLE "receipts" (
    "app_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "reader" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "implied" BOOLEAN NOT NULL DEFAULT false,
    "receiver_type" TEXT,
    "receiver" TEXT,
    "message_sender" TEXT,
    "conversation_id" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "latency_ms" BIGINT,
    "event_id" BIGINT,

    CONSTRAINT "receipts_pkey" PRIMARY KEY ("app_id","message_id","reader","kind")
);

-- CreateTable
CREATE TABLE "group_receipts" (
    "app_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "event_id" BIGINT NOT NULL,

    CONSTRAINT "group_receipts_pkey" PRIMARY KEY ("app_id","message_id","kind")
);

-- CreateTable
CREATE TABLE "connection_events" (
    "id" BIGSERIAL NOT NULL,
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

    CONSTRAINT "connection_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "app_id" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "session_key" TEXT NOT NULL,
    "device_id" TEXT,
    "platform" TEXT,
    "connected_at" TIMESTAMPTZ(3),
    "disconnected_at" TIMESTAMPTZ(3),
    "closed_by" TEXT,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("app_id","uid","session_key")
);

-- CreateTable
CREATE TABLE "presence" (
    "app_id" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "status_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3),
    "last_active_at" TIMESTAMPTZ(3),

    CONSTRAINT "presence_pkey" PRIMARY KEY ("app_id","uid")
);

-- CreateIndex
CREATE INDEX "webhook_events_app_id_event_at_id_idx" ON "webhook_events"("app_id", "event_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "webhook_events_app_id_trigger_event_at_idx" ON "webhook_events"("app_id", "trigger", "event_at" DESC);

-- CreateIndex
CREATE INDEX "webhook_events_app_id_uid_event_at_idx" ON "webhook_events"("app_id", "uid", "event_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "webhook_events_app_id_body_sha256_key" ON "webhook_events"("app_id", "body_sha256");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_events_app_id_natural_key_key" ON "webhook_events"("app_id", "natural_key");

-- CreateIndex
CREATE INDEX "rejected_events_received_at_idx" ON "rejected_events"("received_at" DESC);

-- CreateIndex
CREATE INDEX "rejected_events_app_id_received_at_idx" ON "rejected_events"("app_id", "received_at" DESC);

-- CreateIndex
CREATE INDEX "messages_app_id_conversation_id_sent_at_idx" ON "messages"("app_id", "conversation_id", "sent_at");

-- CreateIndex
CREATE INDEX "receipts_app_id_kind_at_idx" ON "receipts"("app_id", "kind", "at");

-- CreateIndex
CREATE INDEX "receipts_app_id_conversation_id_reader_kind_sent_at_idx" ON "receipts"("app_id", "conversation_id", "reader", "kind", "sent_at");

-- CreateIndex
CREATE INDEX "connection_events_app_id_uid_at_idx" ON "connection_events"("app_id", "uid", "at");

-- CreateIndex
CREATE UNIQUE INDEX "connection_events_app_id_uid_session_key_action_at_key" ON "connection_events"("app_id", "uid", "session_key", "action", "at");

-- CreateIndex
CREATE INDEX "sessions_app_id_uid_connected_at_idx" ON "sessions"("app_id", "uid", "connected_at" DESC);

-- CreateIndex
CREATE INDEX "sessions_app_id_connected_at_idx" ON "sessions"("app_id", "connected_at");

-- CreateIndex
CREATE INDEX "presence_app_id_status_uid_idx" ON "presence"("app_id", "status", "uid");
