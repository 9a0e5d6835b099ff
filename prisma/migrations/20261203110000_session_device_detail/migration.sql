-- Device and client detail of each connection, on its events and on its session.
ALTER TABLE "connection_events" ADD COLUMN "user_agent" TEXT,
ADD COLUMN "sdk_version" TEXT,
ADD COLUMN "api_version" TEXT,
ADD COLUMN "origin" TEXT;

-- opened_by: 'event' (its own connect or disconnect said when it started) or 'inferred' (known
-- only from the legacy connections[] of other events). Every session stored so far came from events.
ALTER TABLE "sessions" ADD COLUMN "user_agent" TEXT,
ADD COLUMN "sdk_version" TEXT,
ADD COLUMN "api_version" TEXT,
ADD COLUMN "origin" TEXT,
ADD COLUMN "opened_by" TEXT NOT NULL DEFAULT 'event';

-- Receipt and group-aggregate natural keys now end with the event time, so a second device's
-- receipt at another time is a new event. Stored keys get their time too (event_at is that time),
-- so a redelivery of an event stored before this migration is still recognised by its key.
UPDATE "webhook_events"
   SET "natural_key" = left("natural_key", -1) || ','
                       || (extract(epoch FROM "event_at") * 1000)::bigint::text || ']'
 WHERE "trigger" IN ('message_delivery_receipt', 'message_read_receipt',
                     'message_delivered_to_all', 'message_read_by_all')
   AND "natural_key" IS NOT NULL;
