-- The SQL src/events/events.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- EventsService.apps

SELECT app_id, count(*) AS events, max(event_at) AS last_event_at
  FROM webhook_events
 WHERE true
 GROUP BY app_id
 ORDER BY app_id;

-- EventsService.apps

SELECT app_id, count(*) AS events, max(event_at) AS last_event_at
  FROM webhook_events
 WHERE true AND app_id = $1
 GROUP BY app_id
 ORDER BY app_id;

-- EventsService.list
SELECT "public"."webhook_events"."app_id", "public"."webhook_events"."id", "public"."webhook_events"."received_month", "public"."webhook_events"."trigger", "public"."webhook_events"."webhook", "public"."webhook_events"."uid", "public"."webhook_events"."event_at", "public"."webhook_events"."received_at", "public"."webhook_events"."body" FROM "public"."webhook_events" WHERE "public"."webhook_events"."app_id" = $1 ORDER BY "public"."webhook_events"."event_at" DESC, "public"."webhook_events"."id" DESC LIMIT $2 OFFSET $3;

-- EventsService.list
SELECT "public"."webhook_events"."app_id", "public"."webhook_events"."id", "public"."webhook_events"."received_month", "public"."webhook_events"."trigger", "public"."webhook_events"."webhook", "public"."webhook_events"."uid", "public"."webhook_events"."event_at", "public"."webhook_events"."received_at", "public"."webhook_events"."body" FROM "public"."webhook_events" WHERE ("public"."webhook_events"."app_id" = $1 AND "public"."webhook_events"."trigger" = $2 AND "public"."webhook_events"."uid" = $3 AND "public"."webhook_events"."event_at" >= $4 AND "public"."webhook_events"."event_at" < $5) ORDER BY "public"."webhook_events"."event_at" DESC, "public"."webhook_events"."id" DESC LIMIT $6 OFFSET $7;

-- EventsService.list
SELECT "public"."webhook_events"."app_id", "public"."webhook_events"."id", "public"."webhook_events"."received_month", "public"."webhook_events"."trigger", "public"."webhook_events"."webhook", "public"."webhook_events"."uid", "public"."webhook_events"."event_at", "public"."webhook_events"."received_at", "public"."webhook_events"."body" FROM "public"."webhook_events" WHERE ("public"."webhook_events"."app_id" = $1 AND "public"."webhook_events"."trigger" = $2) ORDER BY "public"."webhook_events"."event_at" DESC, "public"."webhook_events"."id" DESC LIMIT $3 OFFSET $4;

-- EventsService.listRejected
SELECT "public"."rejected_events"."id", "public"."rejected_events"."received_at", "public"."rejected_events"."app_id", "public"."rejected_events"."trigger", "public"."rejected_events"."reason", "public"."rejected_events"."field", "public"."rejected_events"."content_type", "public"."rejected_events"."body", "public"."rejected_events"."replayed_at" FROM "public"."rejected_events" WHERE "public"."rejected_events"."app_id" = $1 ORDER BY "public"."rejected_events"."id" DESC LIMIT $2 OFFSET $3;
