-- The SQL src/messages/conversations.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ConversationsService.appOf

SELECT app_id FROM messages WHERE conversation_id = $1
 GROUP BY app_id ORDER BY app_id LIMIT 2;

-- ConversationsService.busiest

WITH top AS (
  SELECT app_id, conversation_id, min(receiver_type) AS receiver_type,
         count(*) FILTER (WHERE deleted_at IS NULL) AS messages,
         count(*) FILTER (WHERE deleted_at IS NULL AND edited_at IS NOT NULL) AS edited,
         count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
         count(DISTINCT sender) FILTER (WHERE deleted_at IS NULL) AS senders,
         max(sent_at) FILTER (WHERE deleted_at IS NULL) AS last_message_at
    FROM messages t
   WHERE sent_at >= $1 AND sent_at < $2 AND category IS DISTINCT FROM 'action'
         AND t.app_id = $3
   GROUP BY app_id, conversation_id
   ORDER BY messages DESC, last_message_at DESC NULLS LAST, deleted DESC, conversation_id
   LIMIT $4
), latency AS (
  SELECT r.app_id, r.conversation_id,
         round((percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms))::numeric)::float8 AS read_p50_ms
    FROM receipts r
    JOIN top t ON t.app_id = r.app_id AND t.conversation_id = r.conversation_id
    LEFT JOIN messages m ON m.app_id = r.app_id AND m.id = r.message_id AND m.app_id = $5
   WHERE r.kind = 'read' AND r.sent_at >= $6 AND r.sent_at < $7
     AND m.deleted_at IS NULL AND r.app_id = $8
   GROUP BY r.app_id, r.conversation_id
)
SELECT t.*, l.read_p50_ms
  FROM top t LEFT JOIN latency l ON l.app_id = t.app_id AND l.conversation_id = t.conversation_id
 ORDER BY t.messages DESC, t.last_message_at DESC NULLS LAST, t.deleted DESC, t.conversation_id;

-- ConversationsService.messages

SELECT message_id, reader, kind, at, implied, latency_ms
  FROM receipts
 WHERE app_id = $1 AND message_id = ANY($2::text[])
 ORDER BY message_id, kind, reader;

-- ConversationsService.messages
SELECT "public"."messages"."app_id", "public"."messages"."id", "public"."messages"."conversation_id", "public"."messages"."sender", "public"."messages"."receiver", "public"."messages"."receiver_type", "public"."messages"."category", "public"."messages"."type", "public"."messages"."sent_at", "public"."messages"."edited_at", "public"."messages"."deleted_at" FROM "public"."messages" WHERE ("public"."messages"."app_id" = $1 AND "public"."messages"."conversation_id" = $2 AND ("public"."messages"."category" IS NULL OR "public"."messages"."category" <> $3) AND "public"."messages"."sent_at" >= $4 AND "public"."messages"."sent_at" < $5) ORDER BY "public"."messages"."sent_at" DESC, "public"."messages"."id" DESC LIMIT $6 OFFSET $7;

-- ConversationsService.messages
SELECT "public"."messages"."app_id", "public"."messages"."id", "public"."messages"."conversation_id", "public"."messages"."sender", "public"."messages"."receiver", "public"."messages"."receiver_type", "public"."messages"."category", "public"."messages"."type", "public"."messages"."sent_at", "public"."messages"."edited_at", "public"."messages"."deleted_at" FROM "public"."messages" WHERE ("public"."messages"."app_id" = $1 AND "public"."messages"."conversation_id" = $2 AND ("public"."messages"."category" IS NULL OR "public"."messages"."category" <> $3)) ORDER BY "public"."messages"."sent_at" DESC, "public"."messages"."id" DESC LIMIT $4 OFFSET $5;
