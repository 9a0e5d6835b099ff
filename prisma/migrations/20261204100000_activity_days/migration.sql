-- Active users: per user the UTC days they were online (any platform, and per platform) or sent
-- a message, and per day the number of users by their previous active day, so that distinct
-- users over any range of days is a sum over a few rows (see src/analytics/activity.derivation.ts).
CREATE TABLE "activity_days" (
    "app_id" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "day" DATE NOT NULL,

    CONSTRAINT "activity_days_pkey" PRIMARY KEY ("app_id","uid","kind","platform","day")
);

CREATE TABLE "activity_counts" (
    "app_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "prev_day" DATE NOT NULL,
    "users" INTEGER NOT NULL,

    CONSTRAINT "activity_counts_pkey" PRIMARY KEY ("app_id","kind","platform","day","prev_day")
);

CREATE TABLE "activity_horizon" (
    "app_id" TEXT NOT NULL,
    "day" DATE NOT NULL,

    CONSTRAINT "activity_horizon_pkey" PRIMARY KEY ("app_id")
);

-- Open sessions of an app (disconnected_at IS NULL), and sessions by their end.
CREATE INDEX "sessions_app_id_disconnected_at_idx" ON "sessions"("app_id", "disconnected_at");

-- Messages in sent order (exports).
CREATE INDEX "messages_app_id_sent_at_id_idx" ON "messages"("app_id", "sent_at", "id");
