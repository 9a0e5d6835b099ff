import { Injectable } from '@nestjs/common';
import { PoolClient } from 'pg';
import { unnestRows } from '../db/unnest';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { DerivationStep } from '../ingest/derivation-step';
import { ConnectionDetail, ConnectionRow } from '../ingest/cometchat-event';
import { DerivedRowsWriter, maxOf, mergeBy, minOf } from '../ingest/stored-event';

type Row = ConnectionRow & { appId: string; eventId: string };

/**
 * Connection events, sessions and presence. Every statement is an upsert whose result does not
 * depend on arrival order (LEAST/GREATEST on event times), so racing requests and several
 * service instances converge on what serial processing in event-time order gives.
 */
export const writeConnections: DerivedRowsWriter = async (tx, events) => {
  const rows = events.flatMap((e) =>
    e.connection ? [{ ...e.connection, appId: e.appId, eventId: e.eventId }] : [],
  );
  if (rows.length === 0) {
    return;
  }
  await lockUsers(tx, rows);
  await insertConnectionEvents(tx, rows);
  await upsertSessions(tx, rows);
  await upsertPresence(tx, rows);
  await closeVanishedSessions(tx, rows);
};

/**
 * One writer per user at a time, taken in one global order. The inferred closes read the user's
 * whole history, so two transactions must not run them side by side (each would miss the other's
 * rows); and without it the upserts and that UPDATE lock the same session rows in different
 * orders, which deadlocked concurrent batches (each costing deadlock_timeout and a retry).
 */
async function lockUsers(tx: PoolClient, rows: Row[]): Promise<void> {
  const keys = [...new Set(rows.map((r) => JSON.stringify([r.appId, r.uid])))];
  await tx.query(
    `SELECT pg_advisory_xact_lock(h)
       FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k) x
      ORDER BY h`,
    [keys],
  );
}

async function insertConnectionEvents(tx: PoolClient, rows: Row[]): Promise<void> {
  const x = unnestRows(rows, {
    app_id: ['text', (r) => r.appId],
    uid: ['text', (r) => r.uid],
    action: ['text', (r) => r.action],
    at_ms: ['float8', (r) => r.at],
    status: ['text', (r) => r.status],
    session_key: ['text', (r) => r.sessionKey],
    device_id: ['text', (r) => r.deviceId],
    platform: ['text', (r) => r.platform],
    user_agent: ['text', (r) => r.userAgent],
    sdk_version: ['text', (r) => r.sdkVersion],
    api_version: ['text', (r) => r.apiVersion],
    origin: ['text', (r) => r.origin],
    connected_at_ms: ['float8', (r) => r.connectedAt],
    open_sessions_json: [
      'text',
      (r) =>
        r.openConnections === null
          ? null
          : JSON.stringify(r.openConnections.map((c) => c.sessionKey)),
    ],
    last_active_at_ms: ['float8', (r) => r.lastActiveAt],
    event_id: ['bigint', (r) => r.eventId],
  });
  await tx.query(
    `INSERT INTO connection_events (app_id, uid, action, at, status, session_key, device_id, platform,
                                    user_agent, sdk_version, api_version, origin,
                                    connected_at, open_sessions, last_active_at, event_id)
     SELECT app_id, uid, action, to_timestamp(at_ms / 1000.0), status, session_key, device_id, platform,
            user_agent, sdk_version, api_version, origin, to_timestamp(connected_at_ms / 1000.0),
            CASE WHEN open_sessions_json IS NULL THEN NULL
                 ELSE ARRAY(SELECT jsonb_array_elements_text(open_sessions_json::jsonb)) END,
            to_timestamp(last_active_at_ms / 1000.0), event_id
       FROM ${x.sql}
     ON CONFLICT DO NOTHING`,
    x.values,
  );
}

interface SessionChange extends ConnectionDetail {
  appId: string;
  uid: string;
  sessionKey: string;
  connectedAt: number | null;
  disconnectedAt: number | null;
  openedBy: 'event' | 'inferred';
}

const DETAIL = ['deviceId', 'platform', 'userAgent', 'sdkVersion', 'apiVersion', 'origin'] as const;

/**
 * How much a session row's start time is worth: told by the connection's own event (2), inferred
 * from a connections[] list (1), or unknown (0). The better source wins whatever arrives first;
 * equal sources keep the earliest time. The same rule runs in SQL (RANK below).
 */
const rankOf = (s: Pick<SessionChange, 'connectedAt' | 'openedBy'>) =>
  s.connectedAt === null ? 0 : s.openedBy === 'inferred' ? 1 : 2;
const RANK = (t: string) =>
  `(CASE WHEN ${t}.connected_at IS NULL THEN 0 WHEN ${t}.opened_by = 'inferred' THEN 1 ELSE 2 END)`;
const BETTER = `${RANK('EXCLUDED')} > ${RANK('sessions')}`;
const detailUpdate = (column: string) =>
  `${column} = CASE WHEN ${BETTER} THEN COALESCE(EXCLUDED.${column}, sessions.${column})
                    ELSE COALESCE(sessions.${column}, EXCLUDED.${column}) END`;

function mergeSessions(a: SessionChange, b: SessionChange): SessionChange {
  const [first, second] = rankOf(b) > rankOf(a) ? [b, a] : [a, b];
  const merged: SessionChange = {
    ...first,
    connectedAt: rankOf(a) === rankOf(b) ? minOf(a.connectedAt, b.connectedAt) : first.connectedAt,
    disconnectedAt: minOf(a.disconnectedAt, b.disconnectedAt),
    openedBy: Math.max(rankOf(a), rankOf(b)) === 1 ? 'inferred' : 'event',
  };
  for (const k of DETAIL) {
    merged[k] = first[k] ?? second[k];
  }
  return merged;
}

/**
 * A connect opens, a disconnect closes (at its earliest time); either may come first. A legacy
 * connections[] entry we never saw connect opens its session too (opened_by 'inferred', from its
 * connected_at, else the listing event's time); the connection's own events replace that start.
 */
async function upsertSessions(tx: PoolClient, rows: Row[]): Promise<void> {
  const changes: SessionChange[] = rows.flatMap((r) => [
    {
      appId: r.appId,
      uid: r.uid,
      sessionKey: r.sessionKey,
      ...pickDetail(r),
      connectedAt: r.connectedAt ?? (r.action === 'connected' ? r.at : null),
      disconnectedAt: r.action === 'disconnected' ? r.at : null,
      openedBy: 'event' as const,
    },
    ...(r.openConnections ?? [])
      .filter((c) => c.sessionKey !== r.sessionKey)
      .map((c) => ({
        appId: r.appId,
        uid: r.uid,
        sessionKey: c.sessionKey,
        ...pickDetail(c),
        connectedAt: c.connectedAt ?? r.at,
        disconnectedAt: null,
        openedBy: 'inferred' as const,
      })),
  ]);
  const sessions = mergeBy<SessionChange>(
    changes,
    (s) => [s.appId, s.uid, s.sessionKey].join('\u0000'),
    mergeSessions,
  );
  const x = unnestRows(sessions, {
    app_id: ['text', (r) => r.appId],
    uid: ['text', (r) => r.uid],
    session_key: ['text', (r) => r.sessionKey],
    device_id: ['text', (r) => r.deviceId],
    platform: ['text', (r) => r.platform],
    user_agent: ['text', (r) => r.userAgent],
    sdk_version: ['text', (r) => r.sdkVersion],
    api_version: ['text', (r) => r.apiVersion],
    origin: ['text', (r) => r.origin],
    connected_at_ms: ['float8', (r) => r.connectedAt],
    disconnected_at_ms: ['float8', (r) => r.disconnectedAt],
    opened_by: ['text', (r) => r.openedBy],
  });
  await tx.query(
    `INSERT INTO sessions (app_id, uid, session_key, device_id, platform, user_agent, sdk_version,
                           api_version, origin, connected_at, disconnected_at, closed_by, opened_by)
     SELECT app_id, uid, session_key, device_id, platform, user_agent, sdk_version, api_version, origin,
            to_timestamp(connected_at_ms / 1000.0), to_timestamp(disconnected_at_ms / 1000.0),
            CASE WHEN disconnected_at_ms IS NULL THEN NULL ELSE 'event' END, opened_by
       FROM ${x.sql}
      ORDER BY app_id, uid, session_key
     ON CONFLICT (app_id, uid, session_key) DO UPDATE SET
        ${['device_id', 'platform', 'user_agent', 'sdk_version', 'api_version', 'origin'].map(detailUpdate).join(',\n        ')},
        connected_at = CASE
          WHEN ${RANK('EXCLUDED')} = ${RANK('sessions')} THEN LEAST(sessions.connected_at, EXCLUDED.connected_at)
          WHEN ${BETTER} THEN EXCLUDED.connected_at
          ELSE sessions.connected_at END,
        opened_by = CASE WHEN GREATEST(${RANK('EXCLUDED')}, ${RANK('sessions')}) = 1 THEN 'inferred' ELSE 'event' END,
        disconnected_at = CASE
          WHEN EXCLUDED.closed_by IS NULL THEN sessions.disconnected_at
          WHEN sessions.closed_by = 'event' THEN LEAST(sessions.disconnected_at, EXCLUDED.disconnected_at)
          ELSE EXCLUDED.disconnected_at END,
        closed_by = COALESCE(EXCLUDED.closed_by, sessions.closed_by)`,
    x.values,
  );
}

const pickDetail = (c: ConnectionDetail): ConnectionDetail => ({
  deviceId: c.deviceId,
  platform: c.platform,
  userAgent: c.userAgent,
  sdkVersion: c.sdkVersion,
  apiVersion: c.apiVersion,
  origin: c.origin,
});

interface PresenceChange {
  appId: string;
  uid: string;
  status: string;
  statusAt: number;
  lastActiveAt: number | null;
}

// At equal event times 'online' wins, in the batch and in SQL alike, so order never matters.
const later = (a: PresenceChange, b: PresenceChange) =>
  b.statusAt > a.statusAt || (b.statusAt === a.statusAt && b.status > a.status) ? b : a;

async function upsertPresence(tx: PoolClient, rows: Row[]): Promise<void> {
  const users = mergeBy<PresenceChange>(
    rows.map((r) => ({
      appId: r.appId,
      uid: r.uid,
      status: r.status,
      statusAt: r.at,
      lastActiveAt: r.lastActiveAt,
    })),
    (p) => `${p.appId}\u0000${p.uid}`,
    (a, b) => ({ ...later(a, b), lastActiveAt: maxOf(a.lastActiveAt, b.lastActiveAt) }),
  );
  const x = unnestRows(users, {
    app_id: ['text', (p) => p.appId],
    uid: ['text', (p) => p.uid],
    status: ['text', (p) => p.status],
    status_at_ms: ['float8', (p) => p.statusAt],
    last_active_at_ms: ['float8', (p) => p.lastActiveAt],
  });
  await tx.query(
    `INSERT INTO presence (app_id, uid, status, status_at, last_seen_at, last_active_at)
     SELECT app_id, uid, status, to_timestamp(status_at_ms / 1000.0), to_timestamp(status_at_ms / 1000.0),
            to_timestamp(last_active_at_ms / 1000.0)
       FROM ${x.sql}
      ORDER BY app_id, uid
     ON CONFLICT (app_id, uid) DO UPDATE SET
        status = CASE WHEN (EXCLUDED.status_at, EXCLUDED.status) > (presence.status_at, presence.status)
                      THEN EXCLUDED.status ELSE presence.status END,
        status_at = GREATEST(presence.status_at, EXCLUDED.status_at),
        last_seen_at = GREATEST(presence.last_seen_at, EXCLUDED.last_seen_at),
        last_active_at = GREATEST(presence.last_active_at, EXCLUDED.last_active_at)`,
    x.values,
  );
}

/**
 * A lost disconnect must not leave a session open forever: a later event of the same user that
 * shows the connection gone (missing from the legacy connections[] list, or the user offline)
 * closes it at that event's time, marked 'inferred'. A real disconnect later replaces it.
 *
 * "Later" means after the session's own connect event (or its connectedAt when that event is
 * missing): another device's event between connectedAt and the connect event may not list it
 * yet. Because a late connect event can move that threshold forward, the inferred close is
 * recomputed from the stored events rather than only ever lowered, for every session the batch
 * can affect: open ones, inferred ones closed after the user's earliest event in the batch, and
 * the batch's own sessions.
 */
async function closeVanishedSessions(tx: PoolClient, rows: Row[]): Promise<void> {
  const users = mergeBy(
    rows.map((r) => ({ appId: r.appId, uid: r.uid, from: r.at })),
    (u) => `${u.appId}\u0000${u.uid}`,
    (a, b) => ({ ...a, from: Math.min(a.from, b.from) }),
  );
  const listed = rows.flatMap((r) => [
    r,
    ...(r.openConnections ?? []).map((c) => ({ ...r, sessionKey: c.sessionKey })),
  ]);
  const batchUsers = unnestRows(users, {
    app_id: ['text', (u) => u.appId],
    uid: ['text', (u) => u.uid],
    from_ms: ['float8', (u) => u.from],
  });
  const batchSessions = unnestRows(
    listed,
    {
      app_id: ['text', (r) => r.appId],
      uid: ['text', (r) => r.uid],
      session_key: ['text', (r) => r.sessionKey],
    },
    'x',
    4,
  );
  await tx.query(
    `WITH batch_users AS (
       SELECT app_id, uid, to_timestamp(from_ms / 1000.0) AS from_at FROM ${batchUsers.sql}
     ), batch_sessions AS (
       SELECT DISTINCT app_id, uid, session_key FROM ${batchSessions.sql}
     ), candidates AS (
       SELECT s.app_id, s.uid, s.session_key, s.disconnected_at,
              GREATEST(s.connected_at,
                       (SELECT max(c.at) FROM connection_events c
                         WHERE c.app_id = $7 AND c.uid = s.uid AND c.session_key = s.session_key
                           AND c.action = 'connected')) AS opened_at
         FROM batch_users b
         JOIN sessions s ON s.app_id = $7 AND s.app_id = b.app_id AND s.uid = b.uid
        WHERE s.closed_by IS DISTINCT FROM 'event'
          AND (s.disconnected_at IS NULL OR s.disconnected_at > b.from_at
               OR (s.app_id, s.uid, s.session_key) IN (SELECT * FROM batch_sessions))
     ), inferred AS (
       SELECT cd.app_id, cd.uid, cd.session_key, cd.disconnected_at,
              (SELECT min(ce.at) FROM connection_events ce
                WHERE ce.app_id = $7 AND ce.uid = cd.uid AND ce.at > cd.opened_at
                  AND (ce.status = 'offline' OR NOT (cd.session_key = ANY (ce.open_sessions)))) AS gone_at
         FROM candidates cd
     )
     UPDATE sessions s
        SET disconnected_at = i.gone_at,
            closed_by = CASE WHEN i.gone_at IS NULL THEN NULL ELSE 'inferred' END
       FROM inferred i
      WHERE s.app_id = $7 AND s.app_id = i.app_id AND s.uid = i.uid AND s.session_key = i.session_key
        AND i.disconnected_at IS DISTINCT FROM i.gone_at`,
    [...batchUsers.values, ...batchSessions.values, rows[0].appId],
  );
}

/** Connection events, sessions and presence. */
@Injectable()
export class ConnectionsDerivation implements DerivationStep {
  readonly name = 'connections';
  readonly derive = writeConnections;

  constructor(runner: DerivationRunner) {
    runner.register(this);
  }
}
