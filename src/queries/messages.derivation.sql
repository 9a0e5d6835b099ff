-- The SQL src/messages/messages.derivation.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- MessagesDerivation.writeMessages
INSERT INTO messages (app_id, id, conversation_id, sender, receiver, receiver_type, category, type,
                      sent_at, edited_at, deleted_at, event_id)
SELECT app_id, id, conversation_id, sender, receiver, receiver_type, category, type,
       to_timestamp(sent_at_ms / 1000.0), to_timestamp(edited_at_ms / 1000.0),
       to_timestamp(deleted_at_ms / 1000.0), event_id
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[], $12::bigint[]) AS x(app_id, id, conversation_id, sender, receiver, receiver_type, category, type, sent_at_ms, edited_at_ms, deleted_at_ms, event_id)
 ORDER BY app_id, id
ON CONFLICT (app_id, id) DO UPDATE
   SET edited_at = GREATEST(messages.edited_at, EXCLUDED.edited_at),
       deleted_at = LEAST(messages.deleted_at, EXCLUDED.deleted_at),
       event_id = LEAST(messages.event_id, EXCLUDED.event_id);
