/**
 * The unread messages of one row `u` of user_conversations (or a row with its columns), as a
 * FROM item yielding `m(id, sent_at)`: each message of the conversation that is, for u.uid,
 * after their read watermark, not their own, not deleted, not an action message, sent to them
 * (one-to-one) or sent while they were a member (groups: a known member's intervals; an
 * inferred member, all time). `bounds` adds conditions on m; `tail` ends the subquery (e.g.
 * `ORDER BY m.sent_at LIMIT 1` for the oldest).
 *
 * One index range of messages (app_id, conversation_id, sent_at) per membership interval,
 * starting at the read watermark: only unread messages are read. `app` is u's app as a value
 * (a parameter), so that on Citus the statement runs on that app's one shard.
 */
export function unreadMessages(u: string, app: string, bounds = '', tail = ''): string {
  return `(SELECT g.joined_at AS lo, COALESCE(g.left_at, 'infinity') AS hi
             FROM group_memberships g
            WHERE ${u}.receiver_type = 'group' AND ${u}.membership = 'known'
              AND g.app_id = ${app} AND g.guid = ${u}.guid AND g.uid = ${u}.uid
           UNION ALL
           SELECT '-infinity'::timestamptz, 'infinity'::timestamptz
            WHERE ${u}.receiver_type <> 'group' OR ${u}.membership <> 'known') span
     CROSS JOIN LATERAL (
       SELECT m.id, m.sent_at FROM messages m
        WHERE m.app_id = ${app} AND m.conversation_id = ${u}.conversation_id
          AND m.sent_at >= GREATEST(span.lo, ${u}.read_sent_at) AND m.sent_at < span.hi ${bounds}
          AND (${u}.read_sent_at IS NULL
               OR (m.sent_at, length(m.id), m.id) > (${u}.read_sent_at, length(${u}.read_message_id), ${u}.read_message_id))
          AND m.sender <> ${u}.uid AND m.deleted_at IS NULL AND m.category IS DISTINCT FROM 'action'
          AND (${u}.receiver_type = 'group' OR m.receiver = ${u}.uid)
        ${tail}
       OFFSET 0) m`;
}
