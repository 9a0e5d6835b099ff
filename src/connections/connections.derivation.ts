import { Injectable } from '@nestjs/common';
import { PoolClient } from 'pg';
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
  if (rows.length === 0) return;
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
  await tx.query(
    `INSERT INTO connection_events (app_id, uid, action, at, status, session_key, device_id, platform,
                                    user_agent, sdk_version, api_version, origin,
                                    connected_at, open_sessions, last_active_at, event_id)
     SELECT a, u, act, to_timestamp(t / 1000.0), st, sk, d, p, ua, sv, av, o, to_timestamp(ca / 1000.0),
            CASE WHEN os IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(os::jsonb)) END,
            to_timestamp(la / 1000.0), e
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[],
                   $14::text[], $15::float8[], $16::bigint[])
            AS x(a, u, act, t, st, sk, d, p, ua, sv, av, o, ca, os, la, e)
     ON CONFLICT DO NOTHING`,
    [
      rows.map((r) => r.appId),
      rows.map((r) => r.uid),
      rows.map((r) => r.action),
      rows.map((r) => r.at),
      rows.map((r) => r.status),
      rows.map((r) => r.sessionKey),
      rows.map((r) => r.deviceId),
      rows.map((r) => r.platform),
      rows.map((r) => r.userAgent),
      rows.map((r) => r.sdkVersion),
      rows.map((r) => r.apiVersion),
      rows.map((r) => r.origin),
      rows.map((r) => r.connectedAt),
      rows.map((r) =>
        r.openConnections === null
          ? null
          : JSON.stringify(r.openConnections.map((c) => c.sessionKey)),
      ),
      rows.map((r) => r.lastActiveAt),
      rows.map((r) => r.eventId),
    ],
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
  for (const k of DETAIL) merged[k] = first[k] ?? second[k];
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
  await tx.query(
    `INSERT INTO sessions (app_id, uid, session_key, device_id, platform, user_agent, sdk_version,
                           api_version, origin, connected_at, disconnected_at, closed_by, opened_by)
     SELECT a, u, sk, d, p, ua, sv, av, o, to_timestamp(ca / 1000.0), to_timestamp(da / 1000.0),
            CASE WHEN da IS NULL THEN NULL ELSE 'event' END, ob
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::float8[], $11::float8[], $12::text[])
            AS x(a, u, sk, d, p, ua, sv, av, o, ca, da, ob)
      ORDER BY a, u, sk
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
    [
      sessions.map((s) => s.appId),
      sessions.map((s) => s.uid),
      sessions.map((s) => s.sessionKey),
      sessions.map((s) => s.deviceId),
      sessions.map((s) => s.platform),
      sessions.map((s) => s.userAgent),
      sessions.map((s) => s.sdkVersion),
      sessions.map((s) => s.apiVersion),
      sessions.map((s) => s.origin),
      sessions.map((s) => s.connectedAt),
      sessions.map((s) => s.disconnectedAt),
      sessions.map((s) => s.openedBy),
    ],
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
  await tx.query(
    `INSERT INTO presence (app_id, uid, status, status_at, last_seen_at, last_active_at)
     SELECT a, u, st, to_timestamp(t / 1000.0), to_timestamp(t / 1000.0), to_timestamp(la / 1000.0)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[]) AS x(a, u, st, t, la)
      ORDER BY a, u
     ON CONFLICT (app_id, uid) DO UPDATE SET
        status = CASE WHEN (EXCLUDED.status_at, EXCLUDED.status) > (presence.status_at, presence.status)
                      THEN EXCLUDED.status ELSE presence.status END,
        status_at = GREATEST(presence.status_at, EXCLUDED.status_at),
        last_seen_at = GREATEST(presence.last_seen_at, EXCLUDED.last_seen_at),
        last_active_at = GREATEST(presence.last_active_at, EXCLUDED.last_active_at)`,
    [
      users.map((p) => p.appId),
      users.map((p) => p.uid),
      users.map((p) => p.status),
      users.map((p) => p.statusAt),
      users.map((p) => p.lastActiveAt),
    ],
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
  await tx.query(
    `WITH batch_users AS (
       SELECT a AS app_id, u AS uid, to_timestamp(t / 1000.0) AS from_at
         FROM unnest($1::text[], $2::text[], $3::float8[]) AS x(a, u, t)
     ), batch_sessions AS (
       SELECT DISTINCT a AS app_id, u AS uid, k AS session_key
         FROM unnest($4::text[], $5::text[], $6::text[]) AS x(a, u, k)
     ), candidates AS (
       SELECT s.app_id, s.uid, s.session_key, s.disconnected_at,
              GREATEST(s.connected_at,
                       (SELECT max(c.at) FROM connection_events c
                         WHERE c.app_id = s.app_id AND c.uid = s.uid AND c.session_key = s.session_key
                           AND c.action = 'connected')) AS opened_at
         FROM batch_users b
         JOIN sessions s ON s.app_id = b.app_id AND s.uid = b.uid
        WHERE s.closed_by IS DISTINCT FROM 'event'
          AND (s.disconnected_at IS NULL OR s.disconnected_at > b.from_at
               OR (s.app_id, s.uid, s.session_key) IN (SELECT * FROM batch_sessions))
     ), inferred AS (
       SELECT cd.app_id, cd.uid, cd.session_key, cd.disconnected_at,
              (SELECT min(ce.at) FROM connection_events ce
                WHERE ce.app_id = cd.app_id AND ce.uid = cd.uid AND ce.at > cd.opened_at
                  AND (ce.status = 'offline' OR NOT (cd.session_key = ANY (ce.open_sessions)))) AS gone_at
         FROM candidates cd
     )
     UPDATE sessions s
        SET disconnected_at = i.gone_at,
            closed_by = CASE WHEN i.gone_at IS NULL THEN NULL ELSE 'inferred' END
       FROM inferred i
      WHERE s.app_id = i.app_id AND s.uid = i.uid AND s.session_key = i.session_key
        AND i.disconnected_at IS DISTINCT FROM i.gone_at`,
    [
      users.map((u) => u.appId),
      users.map((u) => u.uid),
      users.map((u) => u.from),
      listed.map((r) => r.appId),
      listed.map((r) => r.uid),
      listed.map((r) => r.sessionKey),
    ],
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
