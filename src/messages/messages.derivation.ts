import { Injectable } from '@nestjs/common';
import { unnestRows } from '../db/unnest';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { DerivationStep } from '../ingest/derivation-step';
import { MessageRow } from '../ingest/cometchat-event';
import { DerivedRowsWriter, maxOf, mergeBy, minOf } from '../ingest/stored-event';

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
      eventId: BigInt(b.eventId) < BigInt(a.eventId) ? b.eventId : a.eventId,
    }),
  );
  if (rows.length === 0) {
    return;
  }
  const x = unnestRows(rows, {
    app_id: ['text', (r) => r.appId],
    id: ['text', (r) => r.id],
    conversation_id: ['text', (r) => r.conversationId],
    sender: ['text', (r) => r.sender],
    receiver: ['text', (r) => r.receiver],
    receiver_type: ['text', (r) => r.receiverType],
    category: ['text', (r) => r.category],
    type: ['text', (r) => r.type],
    sent_at_ms: ['float8', (r) => r.sentAt],
    edited_at_ms: ['float8', (r) => r.editedAt],
    deleted_at_ms: ['float8', (r) => r.deletedAt],
    event_id: ['bigint', (r) => r.eventId],
  });
  // event_id: the first raw event that told of the message, whatever order they were derived in.
  await tx.query(
    `INSERT INTO messages (app_id, id, conversation_id, sender, receiver, receiver_type, category, type,
                           sent_at, edited_at, deleted_at, event_id)
     SELECT app_id, id, conversation_id, sender, receiver, receiver_type, category, type,
            to_timestamp(sent_at_ms / 1000.0), to_timestamp(edited_at_ms / 1000.0),
            to_timestamp(deleted_at_ms / 1000.0), event_id
       FROM ${x.sql}
      ORDER BY app_id, id
     ON CONFLICT (app_id, id) DO UPDATE
        SET edited_at = GREATEST(messages.edited_at, EXCLUDED.edited_at),
            deleted_at = LEAST(messages.deleted_at, EXCLUDED.deleted_at),
            event_id = LEAST(messages.event_id, EXCLUDED.event_id)`,
    x.values,
  );
};

/** Messages, edits and deletes: the first step of every derivation batch. */
@Injectable()
export class MessagesDerivation implements DerivationStep {
  readonly name = 'messages';
  readonly derive = writeMessages;

  constructor(runner: DerivationRunner) {
    runner.register(this);
  }
}
