import { Injectable } from '@nestjs/common';
import { PoolClient } from 'pg';
import { unnestRows } from '../db/unnest';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { DerivationStep } from '../ingest/derivation-step';
import { ReceiptRow } from '../ingest/cometchat-event';
import { DerivedRowsWriter, mergeBy, minOf } from '../ingest/stored-event';
import { tallyLatencyHistogram } from './latency-tally';

type Row = ReceiptRow & { appId: string; eventId: string };

// A message's place in its conversation: sent time, then its numeric id (ids are strings).
const BEFORE = (m: string, s: string) =>
  `(${m}.sent_at, length(${m}.id), ${m}.id) < (${s}.sent_at, length(${s}.message_id), ${s}.message_id)`;

const LATENCY = `GREATEST(0, round(extract(epoch FROM (x.at - m.sent_at)) * 1000))::bigint`;

/**
 * Receipts: one row per (app, message, reader, kind) keeping the earliest time; explicit rows
 * beat implied ones at the same time. Then CometChat's cumulative semantics: a receipt for M
 * covers the reader's earlier messages in M's conversation, and a read covers delivery.
 */
export const writeReceipts: DerivedRowsWriter = async (tx, events) => {
  const fresh = mergeBy<Row>(
    events.flatMap((e) =>
      e.receipt ? [{ ...e.receipt, appId: e.appId, eventId: e.eventId }] : [],
    ),
    (r) => [r.appId, r.messageId, r.reader, r.kind].join('\u0000'),
    (a, b) => (b.at < a.at ? b : a),
  );
  const newMessages = events.filter((e) => e.message).map((e) => [e.appId, e.message!.id]);
  if (newMessages.length === 0 && fresh.length === 0) {
    return;
  }

  await lockMessagesAndConversations(tx, [
    ...newMessages,
    ...fresh.map((r) => [r.appId, r.messageId]),
  ]);
  if (newMessages.length > 0) {
    await fillInMessageFields(tx, newMessages);
  }
  if (fresh.length > 0) {
    await insertExplicit(tx, fresh);
    await implyDeliveryOfUnknownMessages(
      tx,
      fresh.filter((r) => r.kind === 'read'),
    );
  }

  // Sources of implication: the new receipts, and receipts waiting for a message that just came.
  const sources = fresh.map((r) => [r.appId, r.messageId, r.reader]);
  if (newMessages.length > 0) {
    const waiting = await tx.query<{ app_id: string; message_id: string; reader: string }>(
      `SELECT r.app_id, r.message_id, r.reader
         FROM receipts r JOIN unnest($1::text[], $2::text[]) AS x(app_id, message_id)
              ON r.app_id = $3 AND r.app_id = x.app_id AND r.message_id = x.message_id
        WHERE NOT r.implied`,
      [newMessages.map((m) => m[0]), newMessages.map((m) => m[1]), newMessages[0][0]],
    );
    sources.push(...waiting.rows.map((r) => [r.app_id, r.message_id, r.reader]));
  }
  if (sources.length > 0) {
    await implyEarlier(tx, sources);
  }
  if (newMessages.length > 0) {
    await implyFromLater(tx, newMessages);
  }
};

/**
 * Batches commit side by side, and each sees only committed rows of the others: a message and
 * its receipt in two batches would never meet, nor a late message and a receipt for a later one.
 * So a batch locks the message ids it touches, then (those ids settled) their conversations, each
 * set in one fixed order; the locks last until commit.
 */
async function lockMessagesAndConversations(tx: PoolClient, messages: string[][]): Promise<void> {
  const params = [messages.map((m) => m[0]), messages.map((m) => m[1])];
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
       FROM (SELECT DISTINCT json_build_array('message', app_id, message_id)::text AS k
               FROM unnest($1::text[], $2::text[]) AS u(app_id, message_id)) keys
      ORDER BY k`,
    params,
  );
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
       FROM (SELECT DISTINCT json_build_array('conversation', m.app_id, m.conversation_id)::text AS k
               FROM messages m JOIN unnest($1::text[], $2::text[]) AS u(app_id, message_id)
                    ON m.app_id = $3 AND m.app_id = u.app_id AND m.id = u.message_id) keys
      ORDER BY k`,
    [...params, messages[0][0]],
  );
}

async function fillInMessageFields(tx: PoolClient, messages: string[][]): Promise<void> {
  await tx.query(
    `UPDATE receipts x
        SET sent_at = m.sent_at, conversation_id = m.conversation_id, message_sender = m.sender,
            receiver_type = m.receiver_type, latency_ms = ${LATENCY}
       FROM messages m JOIN unnest($1::text[], $2::text[]) AS n(app_id, message_id)
            ON m.app_id = $3 AND m.app_id = n.app_id AND m.id = n.message_id
      WHERE x.app_id = $3 AND x.app_id = m.app_id AND x.message_id = m.id AND x.sent_at IS NULL`,
    [messages.map((m) => m[0]), messages.map((m) => m[1]), messages[0][0]],
  );
}

async function insertExplicit(tx: PoolClient, rows: Row[]): Promise<void> {
  const u = unnestRows(
    rows,
    {
      app_id: ['text', (r) => r.appId],
      message_id: ['text', (r) => r.messageId],
      reader: ['text', (r) => r.reader],
      kind: ['text', (r) => r.kind],
      at_ms: ['float8', (r) => r.at],
      receiver_type: ['text', (r) => r.receiverType],
      receiver: ['text', (r) => r.receiver],
      message_sender: ['text', (r) => r.messageSender],
      event_id: ['bigint', (r) => r.eventId],
    },
    'u',
  );
  await tx.query(
    `INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver,
                           message_sender, conversation_id, sent_at, latency_ms, event_id)
     SELECT x.app_id, x.message_id, x.reader, x.kind, x.at, false, COALESCE(m.receiver_type, x.receiver_type),
            x.receiver, COALESCE(m.sender, x.message_sender), m.conversation_id, m.sent_at,
            CASE WHEN m.sent_at IS NULL THEN NULL ELSE ${LATENCY} END, x.event_id
       FROM (SELECT app_id, message_id, reader, kind, to_timestamp(at_ms / 1000.0) AS at, receiver_type,
                    receiver, message_sender, event_id
               FROM ${u.sql}) x
       LEFT JOIN messages m ON m.app_id = $${u.values.length + 1} AND m.app_id = x.app_id
                            AND m.id = x.message_id
      ORDER BY x.app_id, x.message_id, x.reader, x.kind
     ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE
        SET at = EXCLUDED.at, implied = false, latency_ms = EXCLUDED.latency_ms, event_id = EXCLUDED.event_id,
            receiver = COALESCE(receipts.receiver, EXCLUDED.receiver)
      WHERE EXCLUDED.at < receipts.at OR (receipts.implied AND EXCLUDED.at <= receipts.at)`,
    [...u.values, rows[0].appId],
  );
}

/**
 * A read implies delivery by then, even while its message is unknown (implyEarlier does it for
 * known messages, together with the earlier ones).
 */
async function implyDeliveryOfUnknownMessages(tx: PoolClient, reads: Row[]): Promise<void> {
  if (reads.length === 0) {
    return;
  }
  await tx.query(
    `INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver, message_sender)
     SELECT r.app_id, r.message_id, r.reader, 'delivered', r.at, true, r.receiver_type, r.receiver, r.message_sender
       FROM receipts r JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(app_id, message_id, reader)
            ON r.app_id = $4 AND r.app_id = u.app_id AND r.message_id = u.message_id
           AND r.reader = u.reader AND r.kind = 'read'
      WHERE r.sent_at IS NULL
      ORDER BY r.app_id, r.message_id, r.reader
     ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE SET at = EXCLUDED.at, implied = true, event_id = NULL
      WHERE EXCLUDED.at < receipts.at`,
    [
      reads.map((r) => r.appId),
      reads.map((r) => r.messageId),
      reads.map((r) => r.reader),
      reads[0].appId,
    ],
  );
}

/**
 * Upserts implied receipts from `targets`, keeping the earliest time per key: `upsertImplied(app,
 * ctes)` is `INSERT … WITH ctes SELECT …`. `app` is the batch's app parameter; the app_id written
 * is the message's, and the WITH belongs to the SELECT, so that Citus runs the whole statement on
 * the app's shard (with the WITH on the INSERT it ships the CTEs unrewritten and fails).
 */
const upsertImplied = (app: string, ctes: string) => `
  INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver,
                        message_sender, conversation_id, sent_at, latency_ms)
  WITH ${ctes}
  SELECT DISTINCT ON (m.app_id, m.id, x.reader, x.kind)
         m.app_id, m.id, x.reader, x.kind, x.at, true, m.receiver_type,
         CASE WHEN m.receiver_type = 'group' THEN m.receiver ELSE m.sender END,
         m.sender, m.conversation_id, m.sent_at, ${LATENCY}
    FROM targets x JOIN messages m ON m.app_id = ${app} AND m.app_id = x.app_id AND m.id = x.message_id
   ORDER BY m.app_id, m.id, x.reader, x.kind, x.at
  ON CONFLICT (app_id, message_id, reader, kind) DO UPDATE
     SET at = EXCLUDED.at, implied = true, latency_ms = EXCLUDED.latency_ms, event_id = NULL
   WHERE EXCLUDED.at < receipts.at`;

/**
 * For each source receipt (message M, reader R): R's earlier messages in M's conversation get
 * the same receipt, and every read gives a delivery, on M itself too. The walk back stops at the
 * latest earlier message R already has at or before that time: cumulative receipts keep times
 * non-decreasing along the conversation, so everything before it is covered already.
 */
async function implyEarlier(tx: PoolClient, sources: string[][]): Promise<void> {
  await tx.query(
    upsertImplied(
      '$4',
      `src AS (
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
              AND (${BEFORE('m', 's')} OR (s.include_self AND m.id = s.message_id))
           OFFSET 0) m
     )`,
    ),
    [sources.map((s) => s[0]), sources.map((s) => s[1]), sources.map((s) => s[2]), sources[0][0]],
  );
}

/** A message that arrives after receipts for later messages of its conversation inherits them. */
async function implyFromLater(tx: PoolClient, messages: string[][]): Promise<void> {
  await tx.query(
    upsertImplied(
      '$3',
      `fresh AS MATERIALIZED (
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
     )`,
    ),
    [messages.map((m) => m[0]), messages.map((m) => m[1]), messages[0][0]],
  );
}

export const writeGroupReceipts: DerivedRowsWriter = async (tx, events) => {
  const rows = mergeBy(
    events.flatMap((e) =>
      e.groupReceipt ? [{ ...e.groupReceipt, appId: e.appId, eventId: e.eventId }] : [],
    ),
    (r) => [r.appId, r.messageId, r.kind].join('\u0000'),
    (a, b) => {
      const first = minOf(a.at, b.at) === a.at ? a : b;
      const other = first === a ? b : a;
      return {
        ...first,
        messageSender: first.messageSender ?? other.messageSender,
        receiver: first.receiver ?? other.receiver,
      };
    },
  );
  if (rows.length === 0) {
    return;
  }
  const x = unnestRows(rows, {
    app_id: ['text', (r) => r.appId],
    message_id: ['text', (r) => r.messageId],
    kind: ['text', (r) => r.kind],
    at_ms: ['float8', (r) => r.at],
    event_id: ['bigint', (r) => r.eventId],
    message_sender: ['text', (r) => r.messageSender],
    receiver: ['text', (r) => r.receiver],
  });
  // The earliest time wins; the message's sender and group are kept from whichever names them.
  await tx.query(
    `INSERT INTO group_receipts (app_id, message_id, kind, at, event_id, message_sender, receiver)
     SELECT app_id, message_id, kind, to_timestamp(at_ms / 1000.0), event_id, message_sender, receiver
       FROM ${x.sql}
      ORDER BY app_id, message_id, kind
     ON CONFLICT (app_id, message_id, kind) DO UPDATE
        SET at = LEAST(group_receipts.at, EXCLUDED.at),
            event_id = CASE WHEN EXCLUDED.at < group_receipts.at
                            THEN EXCLUDED.event_id ELSE group_receipts.event_id END,
            message_sender = COALESCE(group_receipts.message_sender, EXCLUDED.message_sender),
            receiver = COALESCE(group_receipts.receiver, EXCLUDED.receiver)`,
    x.values,
  );
};

/**
 * Explicit and implied receipts, then group aggregates (after messages, which they read), then
 * the latency histogram of what changed.
 */
@Injectable()
export class ReceiptsDerivation implements DerivationStep {
  readonly name = 'receipts';
  readonly derive: DerivedRowsWriter = async (tx, events) => {
    await writeReceipts(tx, events);
    await writeGroupReceipts(tx, events);
    for (const appId of new Set(events.map((e) => e.appId))) {
      await tallyLatencyHistogram(tx, appId);
    }
  };

  constructor(runner: DerivationRunner) {
    runner.register(this);
  }
}
