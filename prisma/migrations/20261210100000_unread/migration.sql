-- Unread counts. Group membership from CometChat's group member events: the events as told
-- (redeliveries add nothing) and, rebuilt from them whenever one arrives, intervals per member.
CREATE TABLE "group_member_events" (
    "app_id" TEXT NOT NULL,
    "guid" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "change" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,

    CONSTRAINT "group_member_events_pkey" PRIMARY KEY ("app_id","guid","uid","at","change")
);

CREATE TABLE "group_memberships" (
    "app_id" TEXT NOT NULL,
    "guid" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "joined_at" TIMESTAMPTZ(3) NOT NULL,
    "left_at" TIMESTAMPTZ(3),

    CONSTRAINT "group_memberships_pkey" PRIMARY KEY ("app_id","guid","uid","joined_at")
);

-- Per (app, user, conversation): the read watermark and the oldest unread message's sent time,
-- so unread counts read only the unread messages, and the re-engagement list only its users.
CREATE TABLE "user_conversations" (
    "app_id" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "receiver_type" TEXT NOT NULL,
    "guid" TEXT,
    "membership" TEXT NOT NULL,
    "read_sent_at" TIMESTAMPTZ(3),
    "read_message_id" TEXT,
    "last_read_at" TIMESTAMPTZ(3),
    "oldest_unread_at" TIMESTAMPTZ(3),

    CONSTRAINT "user_conversations_pkey" PRIMARY KEY ("app_id","uid","conversation_id")
);

CREATE INDEX "user_conversations_app_id_uid_oldest_unread_at_idx" ON "user_conversations"("app_id", "uid", "oldest_unread_at");

CREATE INDEX "user_conversations_app_id_conversation_id_oldest_unread_at_idx" ON "user_conversations"("app_id", "conversation_id", "oldest_unread_at");

-- A conversation's messages in time order, with every column an unread count reads, so counting
-- a big group's unread messages is an index-only scan instead of a heap page per message. It
-- replaces the (app_id, conversation_id, sent_at) index, its prefix.
DROP INDEX "messages_app_id_conversation_id_sent_at_idx";

CREATE INDEX "messages_conversation_idx" ON "messages"("app_id", "conversation_id", "sent_at", "id", "sender", "receiver", "deleted_at", "category");
