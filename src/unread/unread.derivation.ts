import { Injectable } from '@nestjs/common';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { DerivationStep } from '../ingest/derivation-step';
import { DerivedRowsWriter } from '../ingest/stored-event';
import { unreadMessages } from './unread-messages';

const GUID = `CASE WHEN m.receiver_type = 'group' THEN m.receiver END`;

/**
 * Unread state per (app, user, conversation), kept in step with messages, receipts and group
 * membership. Every row this batch can change is recomputed whole from the tables as they are
 * (never incremented), so redeliveries, arrival order and batch boundaries do not matter:
 *
 * - participants: a one-to-one message's receiver; a group message's sender; whoever has an
 *   explicit receipt for a message of the batch (or for one that just arrived); the members
 *   named by group member events. Their rows are created if missing.
 * - the rows of each batch message's conversation whose oldest unread message is not before it
 *   (or who have none): a new (or newly deleted) message can only change those.
 *
 * Recomputing a row reads its read watermark (the latest message it has a read receipt for:
 * CometChat's reads are cumulative, and the receipts step keeps every earlier message's implied
 * read), whether its membership is known, and its oldest unread message. The conversations are
 * locked by the receipts and groups steps, so a concurrent batch commits wholly before or after.
 * A batch holds one app's events (the runner claims them per app): every table is read with that
 * app as a value, so that on Citus each statement runs on the app's one shard.
 */
export const writeUnreadState: DerivedRowsWriter = async (tx, events) => {
  const touched = events.flatMap((e) => {
    const id = e.message?.id ?? e.receipt?.messageId;
    return id === undefined ? [] : [[e.appId, id]];
  });
  const members = events.flatMap((e) =>
    (e.groupMembers ?? []).map((m) => [e.appId, m.uid, m.guid]),
  );
  if (touched.length === 0 && members.length === 0) {
    return;
  }
  const app = events[0].appId;
  const { rows: pairs } = await tx.query<{
    app_id: string;
    uid: string;
    conversation_id: string;
    receiver_type: string;
    guid: string | null;
  }>(
    `WITH batch AS (
       SELECT DISTINCT app_id, message_id FROM unnest($1::text[], $2::text[]) AS b(app_id, message_id)
     )
     SELECT m.app_id, CASE WHEN m.receiver_type = 'group' THEN m.sender ELSE m.receiver END AS uid,
            m.conversation_id, m.receiver_type, ${GUID} AS guid
       FROM batch b JOIN messages m ON m.app_id = $6 AND m.app_id = b.app_id AND m.id = b.message_id
     UNION
     SELECT m.app_id, r.reader, m.conversation_id, m.receiver_type, ${GUID}
       FROM batch b
       JOIN receipts r
         ON r.app_id = $6 AND r.app_id = b.app_id AND r.message_id = b.message_id AND NOT r.implied
       JOIN messages m ON m.app_id = $6 AND m.id = r.message_id
     UNION
     SELECT app_id, uid, 'group_' || guid, 'group', guid
       FROM unnest($3::text[], $4::text[], $5::text[]) AS g(app_id, uid, guid)
     ORDER BY 1, 2, 3`,
    [
      touched.map((t) => t[0]),
      touched.map((t) => t[1]),
      members.map((m) => m[0]),
      members.map((m) => m[1]),
      members.map((m) => m[2]),
      app,
    ],
  );
  const column = (name: keyof (typeof pairs)[number]) => pairs.map((p) => p[name]);
  await tx.query(
    `INSERT INTO user_conversations (app_id, uid, conversation_id, receiver_type, guid, membership)
     SELECT app_id, uid, conversation_id, receiver_type, guid, 'known'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
            AS p(app_id, uid, conversation_id, receiver_type, guid)
     ON CONFLICT (app_id, uid, conversation_id) DO NOTHING`,
    [
      column('app_id'),
      column('uid'),
      column('conversation_id'),
      column('receiver_type'),
      column('guid'),
    ],
  );
  // The rows to recompute (the participants, and each batch message's conversation's rows whose
  // oldest unread message is not before it), each recomputed whole.
  await tx.query(
    `UPDATE user_conversations uc
        SET membership = s.membership, read_sent_at = s.read_sent_at,
            read_message_id = s.read_message_id, last_read_at = s.last_read_at,
            oldest_unread_at = (SELECT min(m.sent_at)
                                  FROM ${unreadMessages('s', '$5', '', 'ORDER BY m.sent_at LIMIT 1')})
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
      WHERE uc.app_id = $5 AND uc.uid = s.uid AND uc.conversation_id = s.conversation_id`,
    [column('app_id'), column('uid'), column('conversation_id'), touched.map((t) => t[1]), app],
  );
};

/** Read watermarks and oldest unread messages: after messages, receipts and groups, which it reads. */
@Injectable()
export class UnreadDerivation implements DerivationStep {
  readonly name = 'unread';
  readonly derive = writeUnreadState;

  constructor(runner: DerivationRunner) {
    runner.register(this);
  }
}
