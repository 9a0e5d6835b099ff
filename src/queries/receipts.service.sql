-- The SQL src/receipts/receipts.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ReceiptsService.forMessage
SELECT "public"."group_receipts"."app_id", "public"."group_receipts"."message_id", "public"."group_receipts"."kind", "public"."group_receipts"."at", "public"."group_receipts"."event_id", "public"."group_receipts"."message_sender", "public"."group_receipts"."receiver" FROM "public"."group_receipts" WHERE ("public"."group_receipts"."app_id" = $1 AND "public"."group_receipts"."message_id" = $2) OFFSET $3;

-- ReceiptsService.forMessage
SELECT "public"."messages"."app_id", "public"."messages"."id", "public"."messages"."conversation_id", "public"."messages"."sender", "public"."messages"."receiver", "public"."messages"."receiver_type", "public"."messages"."category", "public"."messages"."type", "public"."messages"."sent_at", "public"."messages"."edited_at", "public"."messages"."deleted_at", "public"."messages"."event_id" FROM "public"."messages" WHERE (("public"."messages"."app_id" = $1 AND "public"."messages"."id" = $2) AND 1=1) LIMIT $3 OFFSET $4;

-- ReceiptsService.forMessage
SELECT "public"."receipts"."app_id", "public"."receipts"."message_id", "public"."receipts"."reader", "public"."receipts"."kind", "public"."receipts"."at", "public"."receipts"."implied", "public"."receipts"."receiver_type", "public"."receipts"."receiver", "public"."receipts"."message_sender", "public"."receipts"."conversation_id", "public"."receipts"."sent_at", "public"."receipts"."latency_ms", "public"."receipts"."event_id", "public"."receipts"."tallied_at", "public"."receipts"."tallied_receiver_type", "public"."receipts"."tallied_implied", "public"."receipts"."tallied_latency_ms" FROM "public"."receipts" WHERE ("public"."receipts"."app_id" = $1 AND "public"."receipts"."message_id" = $2) ORDER BY "public"."receipts"."at" ASC, "public"."receipts"."reader" ASC OFFSET $3;
