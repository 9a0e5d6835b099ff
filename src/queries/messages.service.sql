-- The SQL src/messages/messages.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- MessagesService.findOne
SELECT "public"."messages"."app_id", "public"."messages"."id", "public"."messages"."conversation_id", "public"."messages"."sender", "public"."messages"."receiver", "public"."messages"."receiver_type", "public"."messages"."category", "public"."messages"."type", "public"."messages"."sent_at", "public"."messages"."edited_at", "public"."messages"."deleted_at", "public"."messages"."event_id" FROM "public"."messages" WHERE ("public"."messages"."id" = $1 AND "public"."messages"."app_id" = $2) ORDER BY "public"."messages"."app_id" ASC LIMIT $3 OFFSET $4;
