-- The SQL src/unread/unread.derivation.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- UnreadDerivation.writeUnreadState
INSERT INTO user_conversations (app_id, uid, conversation_id, receiver_type, guid, membership)
SELECT app_id, uid, conversation_id, receiver_type, guid, 'known'
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       AS p(app_id, uid, conversation_id, receiver_type, guid)
ON CONFLICT (app_id, uid, conversation_id) DO NOTHING;

-- UnreadDerivation.writeUnreadState
UPDATE user_conversations uc
   SET membership = s.membership, read_sent_at = s.read_sent_at,
       read_message_id = s.read_message_id, last_read_at = s.last_read_at,
       oldest_unread_at = (SELECT min(m.sent_at)
                             FROM (SELECT g.joined_at AS lo, COALESCE(g.left_at, 'infinity') AS hi
        FROM group_memberships g
       WHERE s.receiver_type = 'group' AND s.membership = 'known'
         AND g.app_id = $5 AND g.guid = s.guid AND g.uid = s.uid
      UNION ALL
      SELECT '-infinity'::timestamptz, 'infinity'::timestamptz
       WHERE s.receiver_type <> 'group' OR s.membership <> 'known') span
CROSS JOIN LATERAL (
  SELECT m.id, m.sent_at FROM messages m
   WHERE m.app_id = $5 AND m.conversation_id = s.conversation_id
     AND m.sent_at >= GREATEST(span.lo, s.read_sent_at) AND m.sent_at < span.hi
     AND (s.read_sent_at IS NULL
          OR (m.sent_at, length(m.id), m.id) > (s.read_sent_at, length(s.read_message_id), s.read_message_id))
     AND m.sender <> s.uid AND m.deleted_at IS NULL AND m.category IS DISTINCT FROM 'action'
     AND (s.receiver_type = 'group' OR m.receiver = s.uid)
   ORDER BY m.sent_at LIMIT 1
  OFFSET 0) m)
  FROM (SELECT u.app_id, u.uid, u.conversation_id, u.receiver_type, u.guid,
               CASE WHEN u.receiver_type = 'group'
                         AND NOT EXISTS (SELECT 1 FROM group_memberships g
                                          WHERE g.app_id = $5 AND g.guid = u.guid AND g.uid = u.uid)
                    THEN 'inferred' ELSE 'known' END AS membership,
               w.sent_at AS read_sent_at, w.message_id AS read_message_id, w.at AS last_read_at
          FROM (SELECT app_id, uid, conversation_id
                  FROM unnest($1::text[], $2::text[], $3::text[]) AS p(app_id, uid, conversation_id)
                UNION
                SELECT c.app_id, c.uid, c.conversation_id
                  FROM (SELECT DISTINCT message_id FROM unnest($4::text[]) AS b(message_id)) b
                  JOIN messages m ON m.app_id = $5 AND m.id = b.message_id
                  JOIN user_conversations c
                    ON c.app_id = $5 AND c.conversation_id = m.conversation_id
                   AND (c.oldest_unread_at IS NULL OR c.oldest_unread_at >= m.sent_at)) t
          JOIN user_conversations u
            ON u.app_id = $5 AND u.app_id = t.app_id AND u.uid = t.uid
           AND u.conversation_id = t.conversation_id
          LEFT JOIN LATERAL (
            SELECT r.sent_at, r.message_id, r.at FROM receipts r
             WHERE r.app_id = $5 AND r.conversation_id = u.conversation_id
               AND r.reader = u.uid AND r.kind = 'read' AND r.sent_at IS NOT NULL
             ORDER BY r.sent_at DESC, length(r.message_id) DESC, r.message_id DESC
             LIMIT 1) w ON true) s
 WHERE uc.app_id = $5 AND uc.uid = s.uid AND uc.conversation_id = s.conversation_id;

-- UnreadDerivation.writeUnreadState
WITH batch AS (
  SELECT DISTINCT app_id, message_id FROM unnest($1::text[], $2::text[]) AS b(app_id, message_id)
)
SELECT m.app_id, CASE WHEN m.receiver_type = 'group' THEN m.sender ELSE m.receiver END AS uid,
       m.conversation_id, m.receiver_type, CASE WHEN m.receiver_type = 'group' THEN m.receiver END AS guid
  FROM batch b JOIN messages m ON m.app_id = $6 AND m.app_id = b.app_id AND m.id = b.message_id
UNION
SELECT m.app_id, r.reader, m.conversation_id, m.receiver_type, CASE WHEN m.receiver_type = 'group' THEN m.receiver END
  FROM batch b
  JOIN receipts r
    ON r.app_id = $6 AND r.app_id = b.app_id AND r.message_id = b.message_id AND NOT r.implied
  JOIN messages m ON m.app_id = $6 AND m.id = r.message_id
UNION
SELECT app_id, uid, 'group_' || guid, 'group', guid
  FROM unnest($3::text[], $4::text[], $5::text[]) AS g(app_id, uid, guid)
ORDER BY 1, 2, 3;
