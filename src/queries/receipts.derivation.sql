-- The SQL src/receipts/receipts.derivation.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- fillInMessageFields
UPDATE receipts x
  SET sent_at = m.sent_at, conversation_id = m.conversation_id, message_sender = m.sender,
      receiver_type = m.receiver_type, latency_ms = GREATEST(0, round(extract(epoch FROM (x.at - m.sent_at)) * 1000))::bigint
 FROM messages m JOIN unnest($1::text[], $2::text[]) AS n(app_id, message_id)
      ON m.app_id = $3 AND m.app_id = n.app_id AND m.id = n.message_id
WHERE x.app_id = $3 AND x.app_id = m.app_id AND x.message_id = m.id AND x.sent_at IS NULL;

-- implyDeliveryOfUnknownMessages
INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver, message_sender)
SELECT r.app_id, r.message_id, r.reader, 'delivered', r.at, true, r.receiver_type, r.receiver, r.message_sender
  FROM receipts r JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(app_id, message_id, reader)
       ON r.app_id = $4 AND r.app_id = u.app_id AND r.message_id = u.message_id
      AND r.reader = u.reader AND r.kind = 'read'
 WHERE r.sent_at IS NULL
 ORDER BY r.app_id, r.message_id, r.reader
ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE SET at = EXCLUDED.at, implied = true, event_id = NULL
 WHERE EXCLUDED.at < receipts.at;

-- implyEarlier

INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver,
                      message_sender, conversation_id, sent_at, latency_ms)
WITH src AS (
     SELECT r.app_id, r.message_id, r.reader, r.at, r.sent_at, r.conversation_id, t.kind,
            r.kind = 'read' AND t.kind = 'delivered' AS include_self
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(app_id, message_id, reader)
       CROSS JOIN LATERAL (
         SELECT * FROM receipts r
          WHERE r.app_id = $4 AND r.app_id = u.app_id AND r.message_id = u.message_id
            AND r.reader = u.reader AND r.sent_at IS NOT NULL
         OFFSET 0) r
       JOIN (VALUES ('delivered'), ('read')) AS t(kind) ON t.kind = r.kind OR r.kind = 'read'
   ), targets AS (
     SELECT s.app_id, m.id AS message_id, s.reader, s.kind, s.at
       FROM src s
       LEFT JOIN LATERAL (
         SELECT c.sent_at FROM receipts c
          WHERE c.app_id = $4 AND c.conversation_id = s.conversation_id AND c.reader = s.reader
            AND c.kind = s.kind AND c.sent_at <= s.sent_at AND c.at <= s.at AND c.message_id <> s.message_id
          ORDER BY c.sent_at DESC LIMIT 1) cut ON true
       -- LATERAL keeps each walk on the (app, conversation, sent_at) index whatever the
       -- planner guesses of a young table; a hash join here scanned every message.
       CROSS JOIN LATERAL (
         SELECT m.id FROM messages m
          WHERE m.app_id = $4 AND m.conversation_id = s.conversation_id
            AND m.sender <> s.reader
            AND m.sent_at >= COALESCE(cut.sent_at, '-infinity') AND m.sent_at <= s.sent_at
            AND ((m.sent_at, length(m.id), m.id) < (s.sent_at, length(s.message_id), s.message_id) OR (s.include_self AND m.id = s.message_id))
         OFFSET 0) m
   )
SELECT DISTINCT ON (m.app_id, m.id, x.reader, x.kind)
       m.app_id, m.id, x.reader, x.kind, x.at, true, m.receiver_type,
       CASE WHEN m.receiver_type = 'group' THEN m.receiver ELSE m.sender END,
       m.sender, m.conversation_id, m.sent_at, GREATEST(0, round(extract(epoch FROM (x.at - m.sent_at)) * 1000))::bigint
  FROM targets x JOIN messages m ON m.app_id = $4 AND m.app_id = x.app_id AND m.id = x.message_id
 ORDER BY m.app_id, m.id, x.reader, x.kind, x.at
ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE
   SET at = EXCLUDED.at, implied = true, latency_ms = EXCLUDED.latency_ms, event_id = NULL
 WHERE EXCLUDED.at < receipts.at;

-- implyFromLater

INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver,
                      message_sender, conversation_id, sent_at, latency_ms)
WITH fresh AS MATERIALIZED (
     SELECT m.* FROM messages m JOIN unnest($1::text[], $2::text[]) AS u(app_id, message_id)
               ON m.app_id = $3 AND m.app_id = u.app_id AND m.id = u.message_id
   ), targets AS (
     SELECT f.app_id, f.id AS message_id, r.reader, t.kind, min(r.at) AS at
       FROM fresh f
       -- Index walks per message (LATERAL, OFFSET 0 keeps them apart): joined freely, a young
       -- table without statistics got nested scans of whole tables, 100x slower.
       CROSS JOIN LATERAL (
         SELECT later.id FROM messages later
          WHERE later.app_id = $3 AND later.conversation_id = f.conversation_id
            AND later.sent_at >= f.sent_at
            AND (f.sent_at, length(f.id), f.id) < (later.sent_at, length(later.id), later.id)
         OFFSET 0) later
       CROSS JOIN LATERAL (
         SELECT r.reader, r.kind, r.at FROM receipts r
          WHERE r.app_id = $3 AND r.message_id = later.id AND r.reader <> f.sender
         OFFSET 0) r
       JOIN (VALUES ('delivered'), ('read')) AS t(kind) ON t.kind = r.kind OR r.kind = 'read'
      GROUP BY f.app_id, f.id, r.reader, t.kind
   )
SELECT DISTINCT ON (m.app_id, m.id, x.reader, x.kind)
       m.app_id, m.id, x.reader, x.kind, x.at, true, m.receiver_type,
       CASE WHEN m.receiver_type = 'group' THEN m.receiver ELSE m.sender END,
       m.sender, m.conversation_id, m.sent_at, GREATEST(0, round(extract(epoch FROM (x.at - m.sent_at)) * 1000))::bigint
  FROM targets x JOIN messages m ON m.app_id = $3 AND m.app_id = x.app_id AND m.id = x.message_id
 ORDER BY m.app_id, m.id, x.reader, x.kind, x.at
ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE
   SET at = EXCLUDED.at, implied = true, latency_ms = EXCLUDED.latency_ms, event_id = NULL
 WHERE EXCLUDED.at < receipts.at;

-- insertExplicit
INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver,
                      message_sender, conversation_id, sent_at, latency_ms, event_id)
SELECT x.app_id, x.message_id, x.reader, x.kind, x.at, false, COALESCE(m.receiver_type, x.receiver_type),
       x.receiver, COALESCE(m.sender, x.message_sender), m.conversation_id, m.sent_at,
       CASE WHEN m.sent_at IS NULL THEN NULL ELSE GREATEST(0, round(extract(epoch FROM (x.at - m.sent_at)) * 1000))::bigint END, x.event_id
  FROM (SELECT app_id, message_id, reader, kind, to_timestamp(at_ms / 1000.0) AS at, receiver_type,
               receiver, message_sender, event_id
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::bigint[]) AS u(app_id, message_id, reader, kind, at_ms, receiver_type, receiver, message_sender, event_id)) x
  LEFT JOIN messages m ON m.app_id = $10 AND m.app_id = x.app_id
                       AND m.id = x.message_id
 ORDER BY x.app_id, x.message_id, x.reader, x.kind
ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE
   SET at = EXCLUDED.at, implied = false, latency_ms = EXCLUDED.latency_ms, event_id = EXCLUDED.event_id,
       receiver = COALESCE(receipts.receiver, EXCLUDED.receiver)
 WHERE EXCLUDED.at < receipts.at OR (receipts.implied AND EXCLUDED.at <= receipts.at);

-- lockMessagesAndConversations
SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
 FROM (SELECT DISTINCT json_build_array('conversation', m.app_id, m.conversation_id)::text AS k
         FROM messages m JOIN unnest($1::text[], $2::text[]) AS u(app_id, message_id)
              ON m.app_id = $3 AND m.app_id = u.app_id AND m.id = u.message_id) keys
ORDER BY k;

-- lockMessagesAndConversations
SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
 FROM (SELECT DISTINCT json_build_array('message', app_id, message_id)::text AS k
         FROM unnest($1::text[], $2::text[]) AS u(app_id, message_id)) keys
ORDER BY k;

-- writeGroupReceipts
INSERT INTO group_receipts (app_id, message_id, kind, at, event_id, message_sender, receiver)
SELECT app_id, message_id, kind, to_timestamp(at_ms / 1000.0), event_id, message_sender, receiver
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::bigint[], $6::text[], $7::text[]) AS x(app_id, message_id, kind, at_ms, event_id, message_sender, receiver)
 ORDER BY app_id, message_id, kind
ON CONFLICT (app_id, message_id, kind) DO UPDATE
   SET at = LEAST(group_receipts.at, EXCLUDED.at),
       event_id = CASE WHEN EXCLUDED.at < group_receipts.at
                       THEN EXCLUDED.event_id ELSE group_receipts.event_id END,
       message_sender = COALESCE(group_receipts.message_sender, EXCLUDED.message_sender),
       receiver = COALESCE(group_receipts.receiver, EXCLUDED.receiver);

-- writeReceipts
SELECT r.app_id, r.message_id, r.reader
 FROM receipts r JOIN unnest($1::text[], $2::text[]) AS x(app_id, message_id)
      ON r.app_id = $3 AND r.app_id = x.app_id AND r.message_id = x.message_id
WHERE NOT r.implied;
