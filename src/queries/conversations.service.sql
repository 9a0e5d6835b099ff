-- The SQL src/messages/conversations.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ConversationsService.appOf

WITH RECURSIVE apps AS (
  (SELECT app_id FROM messages ORDER BY app_id LIMIT 1)
  UNION ALL
  SELECT (SELECT m.app_id FROM messages m
           WHERE m.app_id > apps.app_id ORDER BY m.app_id LIMIT 1)
    FROM apps WHERE apps.app_id IS NOT NULL
)
SELECT app_id FROM apps
 WHERE app_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM messages m
                WHERE m.app_id = apps.app_id AND m.conversation_id = $1)
 ORDER BY app_id
 LIMIT 2;

-- ConversationsService.busiest

WITH top AS (
  SELECT app_id, conversation_id, min(receiver_type) AS receiver_type,
         count(*) FILTER (WHERE deleted_at IS NULL) AS messages,
         count(*) FILTER (WHERE deleted_at IS NULL AND edited_at IS NOT NULL) AS edited,
         count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
         count(DISTINCT sender) FILTER (WHERE deleted_at IS NULL) AS senders,
         max(sent_at) FILTER (WHERE deleted_at IS NULL) AS last_message_at
    FROM messages
   WHERE sent_at >= $1 AND sent_at < $2 AND category IS DISTINCT FROM 'action'
         AND app_id = $3
   GROUP BY app_id, conversation_id
   ORDER BY messages DESC, last_message_at DESC NULLS LAST, deleted DESC, conversation_id
   LIMIT $4
)
SELECT t.*,
       (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms))::numeric)::float8
          FROM receipts r
         WHERE r.app_id = t.app_id AND r.conversation_id = t.conversation_id AND r.kind = 'read'
           AND r.sent_at >= $5 AND r.sent_at < $6
           AND NOT EXISTS (SELECT 1 FROM messages m
                            WHERE m.app_id = r.app_id AND m.id = r.message_id
                              AND m.deleted_at IS NOT NULL)) AS read_p50_ms
  FROM top t
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
