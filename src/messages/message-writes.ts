import { MessageRow } from '../webhooks/cometchat-event';
import { DerivedRowsWriter, maxOf, mergeBy, minOf } from '../webhooks/stored-event';

type Row = MessageRow & { appId: string; eventId: string };

/**
 * One row per (app, message id). A message_sent, an edit and a delete of the same message all
 * carry the whole message; edits and deletes only move edited_at / deleted_at.
 */
export const writeMessages: DerivedRowsWriter = async (tx, events) => {
  const rows = mergeBy<Row>(
    events.flatMap((e) =>
      e.message ? [{ ...e.message, appId: e.appId, eventId: e.eventId }] : [],
    ),
    (r) => `${r.appId}\u0000${r.id}`,
    (a, b) => ({
      ...a,
      editedAt: maxOf(a.editedAt, b.editedAt),
      deletedAt: minOf(a.deletedAt, b.deletedAt),
    }),
  );
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO messages (app_id, id, conversation_id, sender, receiver, receiver_type, category, type,
                           sent_at, edited_at, deleted_at, event_id)
     SELECT a, i, c, s, r, rt, cat, t, to_timestamp(sa / 1000.0), to_timestamp(ea / 1000.0),
            to_timestamp(da / 1000.0), e
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::float8[], $10::float8[], $11::float8[], $12::bigint[])
            AS x(a, i, c, s, r, rt, cat, t, sa, ea, da, e)
      ORDER BY a, i
     ON CONFLICT (app_id, id) DO UPDATE
        SET edited_at = GREATEST(messages.edited_at, EXCLUDED.edited_at),
            deleted_at = LEAST(messages.deleted_at, EXCLUDED.deleted_at)`,
    [
      rows.map((r) => r.appId),
      rows.map((r) => r.id),
      rows.map((r) => r.conversationId),
      rows.map((r) => r.sender),
      rows.map((r) => r.receiver),
      rows.map((r) => r.receiverType),
      rows.map((r) => r.category),
      rows.map((r) => r.type),
      rows.map((r) => r.sentAt),
      rows.map((r) => r.editedAt),
      rows.map((r) => r.deletedAt),
      rows.map((r) => r.eventId),
    ],
  );
};
