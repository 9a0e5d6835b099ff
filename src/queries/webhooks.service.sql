-- The SQL src/webhooks/webhooks.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- WebhooksService.reject
INSERT INTO "public"."rejected_events" ("received_at","app_id","trigger","reason","field","content_type","body") VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING "public"."rejected_events"."id";
