import { Injectable, NotFoundException } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { decodeCursor, page } from '../common/paging';
import { assertRange } from '../common/query-params';
import { statementName } from '../db/prepared';
import { PrismaService } from '../db/prisma.service';
import { ReadReplica } from '../db/read-replica.service';
import { Prisma } from '../generated/prisma/client';
import {
  OnlinePageDto,
  OnlineQueryDto,
  OpenSessionDto,
  PresenceDto,
  PresenceQueryDto,
  SessionDto,
  SessionsPageDto,
  SessionsQueryDto,
} from './presence.dto';

interface PresenceRow {
  app_id: string;
  uid: string;
  status: 'online' | 'offline';
  since: Date;
  last_seen_at: Date | null;
  last_active_at: Date | null;
}

interface SessionDetailRow {
  session_key: string;
  device_id: string | null;
  platform: string | null;
  user_agent: string | null;
  sdk_version: string | null;
  api_version: string | null;
  origin: string | null;
  opened_by: 'event' | 'inferred';
}

interface OpenSessionRow extends SessionDetailRow {
  /** json_agg renders timestamps as text */
  connected_at: string | null;
}

interface SessionRow extends SessionDetailRow {
  app_id: string;
  uid: string;
  connected_at: Date | null;
  disconnected_at: Date | null;
  closed_by: 'event' | 'inferred' | null;
  start_at: Date;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** The session columns every answer shows, as in OpenSessionDto. */
const SESSION_COLUMNS = Prisma.raw(
  's.session_key, s.device_id, s.platform, s.user_agent, s.sdk_version, s.api_version, s.origin, s.opened_by',
);

function sessionDetail(r: SessionDetailRow, connectedAt: string | null): OpenSessionDto {
  return {
    sessionId: r.session_key,
    deviceId: r.device_id,
    platform: r.platform,
    userAgent: r.user_agent,
    sdkVersion: r.sdk_version,
    apiVersion: r.api_version,
    origin: r.origin,
    connectedAt,
    openedBy: r.opened_by,
  };
}
const ts = (d: Date | undefined | null) => (d ? d.toISOString() : null);

/**
 * `since` is not stored: a late event in the middle of the history can move it, which an upsert
 * cannot follow. It is the first event after the latest event carrying the other status, ordered
 * like the writer orders status ((at, status), 'online' winning ties), so it depends only on the
 * set of stored events, never on their arrival order. An open session known only from a legacy
 * connections[] list (opened_by 'inferred') had no event of its own: when it started after that
 * latest other-status event, the user has been online since its start.
 */
const since = (app: Prisma.Sql) => Prisma.sql`LEAST((
  SELECT min(ce.at) FROM connection_events ce
   WHERE ce.app_id = ${app} AND ce.uid = p.uid
     AND (d.at IS NULL OR (ce.at >= d.at AND (ce.at, ce.status) > (d.at, d.status)))),
  CASE WHEN p.status = 'online' THEN (
    SELECT min(s.connected_at) FROM sessions s
     WHERE s.app_id = ${app} AND s.uid = p.uid AND s.opened_by = 'inferred'
       AND s.disconnected_at IS NULL AND (d.at IS NULL OR s.connected_at > d.at)) END)`;
const latestOtherStatus = (app: Prisma.Sql) => Prisma.sql`LEFT JOIN LATERAL (
  SELECT o.at, o.status FROM connection_events o
   WHERE o.app_id = ${app} AND o.uid = p.uid AND o.status <> p.status
   ORDER BY o.at DESC LIMIT 1) d ON true`;

/**
 * The app every table reference of a presence statement is pinned to: the asked app itself (so
 * that on Citus the whole statement runs on that app's shard), else each presence row's own.
 */
const appOf = (appId: string | undefined) =>
  appId === undefined ? Prisma.sql`p.app_id` : Prisma.sql`${appId}`;

@Injectable()
export class PresenceService {
  constructor(private readonly db: ReadReplica) {}

  /** The primary's client, or the replica's while a @PrefersReplica route reads there. */
  private get prisma(): PrismaService {
    return this.db.prisma;
  }

  /** One round trip: the hottest read of the service (SPEC 5: p99 under 5 ms). */
  async presence(uid: string, query: PresenceQueryDto): Promise<PresenceDto> {
    // A named statement on the pg pool: planning this query took twice as long as running it,
    // and Prisma's $queryRaw re-plans on every call (npm run bench).
    const app = appOf(query.appId);
    const sql = Prisma.sql`
      SELECT p.app_id, p.uid, p.status, p.last_seen_at, p.last_active_at, ${since(app)} AS since,
             COALESCE((SELECT json_agg(json_build_object(
                         'session_key', s.session_key, 'device_id', s.device_id,
                         'platform', s.platform, 'user_agent', s.user_agent,
                         'sdk_version', s.sdk_version, 'api_version', s.api_version,
                         'origin', s.origin, 'opened_by', s.opened_by,
                         'connected_at', s.connected_at)
                       ORDER BY s.connected_at, s.session_key)
                         FROM sessions s
                        WHERE s.app_id = ${app} AND s.uid = p.uid AND s.disconnected_at IS NULL),
                      '[]') AS sessions
        FROM presence p ${latestOtherStatus(app)}
       WHERE p.uid = ${uid} ${query.appId === undefined ? Prisma.empty : Prisma.sql`AND p.app_id = ${query.appId}`}
       LIMIT 2`;
    const { rows } = await this.prisma.pool.query<PresenceRow & { sessions: OpenSessionRow[] }>({
      name: statementName(sql.text),
      text: sql.text,
      values: sql.values,
    });
    const row = this.onlyApp(uid, query.appId, rows);
    return {
      uid,
      appId: row.app_id,
      status: row.status,
      since: row.since.toISOString(),
      lastSeenAt: iso(row.last_seen_at),
      lastActiveAt: iso(row.last_active_at),
      sessions: row.sessions.map((r) =>
        sessionDetail(r, r.connected_at === null ? null : new Date(r.connected_at).toISOString()),
      ),
    };
  }

  async sessions(uid: string, query: SessionsQueryDto): Promise<SessionsPageDto> {
    assertRange(query.from, query.to);
    const appId = await this.resolveApp(uid, query.appId);
    const after = decodeCursor(query.cursor, ['time', 'string']);
    const from = ts(query.from);
    const to = ts(query.to);

    // Sessions [connected, disconnected) overlapping [from, to); one whose connect was never
    // seen is the instant of its disconnect.
    const inRange = Prisma.sql`app_id = ${appId} AND uid = ${uid}
      ${query.platform === undefined ? Prisma.empty : Prisma.sql`AND platform = ${query.platform}`}
      AND (${to}::timestamptz IS NULL OR COALESCE(connected_at, disconnected_at) < ${to}::timestamptz)
      AND (${from}::timestamptz IS NULL OR disconnected_at IS NULL OR disconnected_at > ${from}::timestamptz
           OR COALESCE(connected_at, disconnected_at) >= ${from}::timestamptz)`;
    const rows = await this.prisma.$queryRaw<SessionRow[]>`
      SELECT s.app_id, s.uid, ${SESSION_COLUMNS}, s.connected_at, s.disconnected_at, s.closed_by,
             COALESCE(s.connected_at, s.disconnected_at) AS start_at
        FROM sessions s
       WHERE ${inRange}
         ${after ? Prisma.sql`AND (COALESCE(connected_at, disconnected_at), session_key) < (${new Date(after[0]).toISOString()}::timestamptz, ${after[1]})` : Prisma.empty}
       ORDER BY start_at DESC, session_key DESC
       LIMIT ${query.limit + 1}`;

    // The union of the intervals, clipped to the range; an open session runs until min(to, now).
    const [total] = await this.prisma.$queryRaw<{ ms: bigint }[]>`
      SELECT COALESCE(round(sum(EXTRACT(EPOCH FROM upper(r) - lower(r)) * 1000)), 0)::bigint AS ms
        FROM unnest((
          SELECT range_agg(tstzrange(connected_at,
                   GREATEST(connected_at, COALESCE(disconnected_at, LEAST(${to}::timestamptz, now())))))
            FROM sessions
           WHERE ${inRange} AND connected_at IS NOT NULL
        ) * tstzmultirange(tstzrange(${from}::timestamptz, ${to}::timestamptz, '[)'))) AS r`;

    const { items, nextCursor } = page(rows, query.limit, (r) => [
      r.start_at.getTime(),
      r.session_key,
    ]);
    return {
      items: items.map((r) => this.toSession(r)),
      totalOnlineMs: Number(total.ms),
      nextCursor,
    };
  }

  async online(query: OnlineQueryDto): Promise<OnlinePageDto> {
    const after = decodeCursor(query.cursor, ['string', 'string']);
    const only = (alias: string) =>
      query.appId === undefined
        ? Prisma.empty
        : Prisma.sql`AND ${Prisma.raw(alias)}.app_id = ${query.appId}`;
    const app = appOf(query.appId);
    const rows = await this.prisma.$queryRaw<PresenceRow[]>`
      SELECT p.app_id, p.uid, ${since(app)} AS since
        FROM presence p ${latestOtherStatus(app)}
       WHERE p.status = 'online' ${only('p')}
         ${after ? Prisma.sql`AND (p.app_id, p.uid) > (${after[0]}, ${after[1]})` : Prisma.empty}
       ORDER BY p.app_id, p.uid
       LIMIT ${query.limit + 1}`;
    const [{ count }] = await this.prisma.$queryRaw<{ count: bigint }[]>`
      SELECT count(*) AS count FROM presence p WHERE p.status = 'online' ${only('p')}`;
    const { items, nextCursor } = page(rows, query.limit, (r) => [r.app_id, r.uid]);
    const sessions = await this.openSessions(
      items.map((r) => [r.app_id, r.uid]),
      only('s'),
    );
    return {
      count: Number(count),
      items: items.map((r) => ({
        uid: r.uid,
        appId: r.app_id,
        since: r.since.toISOString(),
        sessions: sessions.get(`${r.app_id}\u0000${r.uid}`) ?? [],
      })),
      nextCursor,
    };
  }

  /**
   * The app a uid belongs to: the given one if the uid is known there, else the only app that
   * knows it. A uid is known once it has a connection event (and so a presence row).
   */
  private async resolveApp(uid: string, appId: string | undefined): Promise<string> {
    const apps = await this.prisma.presence.findMany({
      where: { uid, appId },
      select: { appId: true },
      take: 2,
    });
    return this.onlyApp(uid, appId, apps).appId;
  }

  /** The uid's one row: 404 when it has none, 400 when it is in several apps and none was named. */
  private onlyApp<T>(uid: string, appId: string | undefined, rows: T[]): T {
    if (rows.length === 0) {
      throw new NotFoundException({
        statusCode: 404,
        error: 'Not Found',
        message:
          appId === undefined
            ? `uid "${uid}" has no connection events`
            : `uid "${uid}" has no connection events in app "${appId}"`,
      });
    }
    if (rows.length > 1) {
      throw new BadQueryParameterError('appId', 'uid exists in several apps; pass appId');
    }
    return rows[0];
  }

  private async openSessions(
    users: [string, string][],
    only: Prisma.Sql,
  ): Promise<Map<string, OpenSessionDto[]>> {
    const byUser = new Map<string, OpenSessionDto[]>();
    if (users.length === 0) {
      return byUser;
    }
    const rows = await this.prisma.$queryRaw<SessionRow[]>`
      SELECT s.app_id, s.uid, ${SESSION_COLUMNS}, s.connected_at
        FROM unnest(${users.map((u) => u[0])}::text[], ${users.map((u) => u[1])}::text[]) AS x(app_id, uid)
        JOIN sessions s ON s.app_id = x.app_id AND s.uid = x.uid
       WHERE s.disconnected_at IS NULL ${only}
       ORDER BY s.app_id, s.uid, s.connected_at, s.session_key`;
    for (const r of rows) {
      const key = `${r.app_id}\u0000${r.uid}`;
      const list = byUser.get(key) ?? [];
      list.push(sessionDetail(r, iso(r.connected_at)));
      byUser.set(key, list);
    }
    return byUser;
  }

  private toSession(r: SessionRow): SessionDto {
    const closed = r.disconnected_at;
    return {
      ...sessionDetail(r, iso(r.connected_at)),
      disconnectedAt: iso(closed),
      durationMs:
        closed && r.connected_at ? Math.max(0, closed.getTime() - r.connected_at.getTime()) : null,
      closedBy: r.closed_by,
    };
  }
}
