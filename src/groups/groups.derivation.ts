import { Injectable } from '@nestjs/common';
import { PoolClient } from 'pg';
import { unnestRows } from '../db/unnest';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { DerivationStep } from '../ingest/derivation-step';
import { GroupMemberRow } from '../ingest/cometchat-event';
import { DerivedRowsWriter } from '../ingest/stored-event';

type Row = GroupMemberRow & { appId: string; eventId: string };

/** The changes that make a user a member; left, kicked and banned end it; unbanned does neither. */
const JOINS = `('created', 'joined', 'added')`;

/**
 * Group membership: each member event is kept once per (group, member, time, change), then the
 * member's intervals are rebuilt from all of their events in time order, so redeliveries and any
 * arrival order give the same intervals. The group's conversation is locked first (the key the
 * receipts step uses), so a batch deriving the group's messages or receipts at the same time
 * commits wholly before or after this one.
 */
export const writeGroupMembers: DerivedRowsWriter = async (tx, events) => {
  const rows: Row[] = events.flatMap((e) =>
    (e.groupMembers ?? []).map((m) => ({ ...m, appId: e.appId, eventId: e.eventId })),
  );
  if (rows.length === 0) {
    return;
  }
  await lockGroupConversations(tx, rows);
  // A batch holds one app's events: each table is read with that app as a value, so that on
  // Citus each statement runs on the app's one shard.
  const app = events[0].appId;
  const x = unnestRows(rows, {
    app_id: ['text', (r) => r.appId],
    guid: ['text', (r) => r.guid],
    uid: ['text', (r) => r.uid],
    change: ['text', (r) => r.change],
    at_ms: ['float8', (r) => r.at],
    event_id: ['bigint', (r) => r.eventId],
  });
  // A payload without a time of its own takes its raw event's (the time it was received).
  await tx.query(
    `INSERT INTO group_member_events (app_id, guid, uid, at, change, event_id)
     SELECT DISTINCT ON (app_id, guid, uid, at, change) app_id, guid, uid, at, change, event_id
       FROM (SELECT x.app_id, x.guid, x.uid, x.change, x.event_id,
                    COALESCE(to_timestamp(x.at_ms / 1000.0),
                             (SELECT w.event_at FROM webhook_events w
                               WHERE w.app_id = $${x.values.length + 1} AND w.id = x.event_id)) AS at
               FROM ${x.sql}) e
      ORDER BY app_id, guid, uid, at, change, event_id
     ON CONFLICT (app_id, guid, uid, at, change) DO UPDATE
        SET event_id = LEAST(group_member_events.event_id, EXCLUDED.event_id)`,
    [...x.values, app],
  );
  const members = unnestRows(
    rows,
    {
      app_id: ['text', (r) => r.appId],
      guid: ['text', (r) => r.guid],
      uid: ['text', (r) => r.uid],
    },
    'm',
  );
  await tx.query(
    `DELETE FROM group_memberships g USING ${members.sql}
      WHERE g.app_id = $${members.values.length + 1} AND g.app_id = m.app_id
        AND g.guid = m.guid AND g.uid = m.uid`,
    [...members.values, app],
  );
  // The events in time order (joins first at equal times); an interval opens at each join that
  // follows a leave (or nothing) and closes at the next leave. A first event that is a leave
  // means a member since before anything known: from -infinity.
  await tx.query(
    `INSERT INTO group_memberships (app_id, guid, uid, joined_at, left_at)
     SELECT app_id, guid, uid, joined_at, left_at
       FROM (SELECT app_id, guid, uid, is_in, prev_in,
                    CASE WHEN is_in THEN at ELSE '-infinity' END AS joined_at,
                    CASE WHEN is_in THEN lead(at) OVER w ELSE at END AS left_at
               FROM (SELECT e.app_id, e.guid, e.uid, e.at, e.change IN ${JOINS} AS is_in,
                            lag(e.change IN ${JOINS}) OVER (PARTITION BY e.app_id, e.guid, e.uid
                                                             ORDER BY e.at, e.change IN ${JOINS} DESC) AS prev_in
                       FROM group_member_events e
                       JOIN (SELECT DISTINCT app_id, guid, uid FROM ${members.sql}) t
                         ON e.app_id = t.app_id AND e.guid = t.guid AND e.uid = t.uid
                      WHERE e.app_id = $${members.values.length + 1} AND e.change <> 'unbanned') ev
              WHERE prev_in IS DISTINCT FROM is_in
             WINDOW w AS (PARTITION BY app_id, guid, uid ORDER BY at, is_in DESC)) edges
      WHERE (is_in OR prev_in IS NULL) AND (left_at IS NULL OR left_at > joined_at)`,
    [...members.values, app],
  );
};

/** The groups' conversation locks (CometChat names a group's conversation `group_<guid>`). */
async function lockGroupConversations(tx: PoolClient, rows: Row[]): Promise<void> {
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
       FROM (SELECT DISTINCT json_build_array('conversation', app_id, 'group_' || guid)::text AS k
               FROM unnest($1::text[], $2::text[]) AS g(app_id, guid)) keys
      ORDER BY k`,
    [rows.map((r) => r.appId), rows.map((r) => r.guid)],
  );
}

/** Group membership from group member events: after receipts, before the unread state that reads it. */
@Injectable()
export class GroupsDerivation implements DerivationStep {
  readonly name = 'groups';
  readonly derive = writeGroupMembers;

  constructor(runner: DerivationRunner) {
    runner.register(this);
  }
}
