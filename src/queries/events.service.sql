-- The SQL src/events/events.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- EventsService.apps

WITH RECURSIVE apps AS (
  (SELECT app_id FROM webhook_events ORDER BY app_id LIMIT 1)
  UNION ALL
  SELECT (SELECT w.app_id FROM webhook_events w
           WHERE w.app_id > apps.app_id ORDER BY w.app_id LIMIT 1)
    FROM apps WHERE apps.app_id IS NOT NULL
)
SELECT app_id,
       (SELECT count(*) FROM webhook_events w WHERE w.app_id = apps.app_id) AS events,
       (SELECT w.event_at FROM webhook_events w WHERE w.app_id = apps.app_id
         ORDER BY w.event_at DESC, w.id DESC LIMIT 1) AS last_event_at
  FROM apps
 WHERE app_id IS NOT NULL
 ORDER BY app_id;

-- EventsService.apps

WITH RECURSIVE apps AS (
  (SELECT app_id FROM webhook_events ORDER BY app_id LIMIT 1)
  UNION ALL
  SELECT (SELECT w.app_id FROM webhook_events w
           WHERE w.app_id > apps.app_id ORDER BY w.app_id LIMIT 1)
    FROM apps WHERE apps.app_id IS NOT NULL
)
SELECT app_id,
       (SELECT count(*) FROM webhook_events w WHERE w.app_id = apps.app_id) AS events,
       (SELECT w.event_at FROM webhook_events w WHERE w.app_id = apps.app_id
         ORDER BY w.event_at DESC, w.id DESC LIMIT 1) AS last_event_at
  FROM apps
 WHERE app_id IS NOT NULL AND app_id = $1
 ORDER BY app_id;

-- EventsService.list
SELECT "public"."webhook_events"."app_id", "public"."webhook_events"."id", "public"."webhook_events"."received_month", "public"."webhook_events"."trigger", "public"."webhook_events"."webhook", "public"."webhook_events"."uid", "public"."webhook_events"."event_at", "public"."webhook_events"."received_at", "public"."webhook_events"."body" FROM "public"."webhook_events" WHERE "public"."webhook_events"."app_id" = $1 ORDER BY "public"."webhook_events"."event_at" DESC, "public"."webhook_events"."id" DESC LIMIT $2 OFFSET $3;

-- EventsService.list
SELECT "public"."webhook_events"."app_id", "public"."webhook_events"."id", "public"."webhook_events"."received_month", "public"."webhook_events"."trigger", "public"."webhook_events"."webhook", "public"."webhook_events"."uid", "public"."webhook_events"."event_at", "public"."webhook_events"."received_at", "public"."webhook_events"."body" FROM "public"."webhook_events" WHERE ("public"."webhook_events"."app_id" = $1 AND "public"."webhook_events"."trigger" = $2 AND "public"."webhook_events"."uid" = $3 AND "public"."webhook_events"."event_at" >= $4 AND "public"."webhook_events"."event_at" < $5) ORDER BY "public"."webhook_events"."event_at" DESC, "public"."webhook_events"."id" DESC LIMIT $6 OFFSET $7;

-- EventsService.list
SELECT "public"."webhook_events"."app_id", "public"."webhook_events"."id", "public"."webhook_events"."received_month", "public"."webhook_events"."trigger", "public"."webhook_events"."webhook", "public"."webhook_events"."uid", "public"."webhook_events"."event_at", "public"."webhook_events"."received_at", "public"."webhook_events"."body" FROM "public"."webhook_events" WHERE ("public"."webhook_events"."app_id" = $1 AND "public"."webhook_events"."trigger" = $2) ORDER BY "public"."webhook_events"."event_at" DESC, "public"."webhook_events"."id" DESC LIMIT $3 OFFSET $4;

-- EventsService.listRejected
SELECT "public"."rejected_events"."id", "public"."rejected_events"."received_at", "public"."rejected_events"."app_id", "public"."rejected_events"."trigger", "public"."rejected_events"."reason", "public"."rejected_events"."field", "public"."rejected_events"."content_type", "public"."rejected_events"."body", "public"."rejected_events"."replayed_at" FROM "public"."rejected_events" WHERE "public"."rejected_events"."app_id" = $1 ORDER BY "public"."rejected_events"."id" DESC LIMIT $2 OFFSET $3;
