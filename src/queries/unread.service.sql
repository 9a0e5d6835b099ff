-- The SQL src/unread/unread.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- UnreadService.appOf

SELECT app_id FROM user_conversations WHERE app_id = $1 AND uid = $2 LIMIT 1;

-- UnreadService.appOf

SELECT app_id FROM user_conversations WHERE uid = $1
 GROUP BY app_id ORDER BY app_id LIMIT 2;

-- UnreadService.forUser

 SELECT uc.conversation_id, uc.receiver_type, uc.guid, uc.membership, uc.last_read_at,
        uc.oldest_unread_at, n.unread, n.newest
   FROM user_conversations uc
   CROSS JOIN LATERAL (SELECT count(*) AS unread, max(m.sent_at) AS newest FROM (SELECT g.joined_at AS lo, COALESCE(g.left_at, 'infinity') AS hi
        FROM group_memberships g
       WHERE uc.receiver_type = 'group' AND uc.membership = 'known'
         AND g.app_id = $1 AND g.guid = uc.guid AND g.uid = uc.uid
      UNION ALL
      SELECT '-infinity'::timestamptz, 'infinity'::timestamptz
       WHERE uc.receiver_type <> 'group' OR uc.membership <> 'known') span
CROSS JOIN LATERAL (
  SELECT m.id, m.sent_at FROM messages m
   WHERE m.app_id = $2 AND m.conversation_id = uc.conversation_id
     AND m.sent_at >= GREATEST(span.lo, uc.read_sent_at) AND m.sent_at < span.hi AND m.sent_at >= uc.oldest_unread_at
     AND (uc.read_sent_at IS NULL
          OR (m.sent_at, length(m.id), m.id) > (uc.read_sent_at, length(uc.read_message_id), uc.read_message_id))
     AND m.sender <> uc.uid AND m.deleted_at IS NULL AND m.category IS DISTINCT FROM 'action'
     AND (uc.receiver_type = 'group' OR m.receiver = uc.uid)

  OFFSET 0) m) n
  WHERE uc.app_id = $3 AND uc.uid = $4 AND uc.oldest_unread_at IS NOT NULL
    AND n.unread > 0
  ORDER BY n.newest DESC, uc.conversation_id;

-- UnreadService.nextApp

SELECT min(app_id) AS app_id FROM user_conversations WHERE app_id > $1;

-- UnreadService.nextApp

SELECT min(app_id) AS app_id FROM user_conversations;

-- UnreadService.olderThan

 WITH p AS (SELECT $1::timestamptz AS before),
 users AS (
   SELECT uc.uid FROM user_conversations uc
    WHERE uc.app_id = $2 AND uc.oldest_unread_at < $3::timestamptz
      AND ($4::text IS NULL OR uc.uid > $5::text)
    GROUP BY uc.uid
    ORDER BY uc.uid
    LIMIT $6
 )
 SELECT uc.uid, sum(n.unread)::bigint AS unread, count(*) AS conversations,
        COALESCE(sum(n.unread) FILTER (WHERE uc.membership = 'inferred'), 0)::bigint AS inferred,
        min(uc.oldest_unread_at) AS oldest
   FROM users u
   CROSS JOIN p
   JOIN user_conversations uc
     ON uc.app_id = $7 AND uc.uid = u.uid AND uc.oldest_unread_at < p.before
   CROSS JOIN LATERAL (SELECT count(*) AS unread FROM (SELECT g.joined_at AS lo, COALESCE(g.left_at, 'infinity') AS hi
        FROM group_memberships g
       WHERE uc.receiver_type = 'group' AND uc.membership = 'known'
         AND g.app_id = $8 AND g.guid = uc.guid AND g.uid = uc.uid
      UNION ALL
      SELECT '-infinity'::timestamptz, 'infinity'::timestamptz
       WHERE uc.receiver_type <> 'group' OR uc.membership <> 'known') span
CROSS JOIN LATERAL (
  SELECT m.id, m.sent_at FROM messages m
   WHERE m.app_id = $9 AND m.conversation_id = uc.conversation_id
     AND m.sent_at >= GREATEST(span.lo, uc.read_sent_at) AND m.sent_at < span.hi AND m.sent_at >= uc.oldest_unread_at AND m.sent_at < p.before
     AND (uc.read_sent_at IS NULL
          OR (m.sent_at, length(m.id), m.id) > (uc.read_sent_at, length(uc.read_message_id), uc.read_message_id))
     AND m.sender <> uc.uid AND m.deleted_at IS NULL AND m.category IS DISTINCT FROM 'action'
     AND (uc.receiver_type = 'group' OR m.receiver = uc.uid)

  OFFSET 0) m) n
  GROUP BY uc.uid
  ORDER BY uc.uid;
