import { Injectable, NotFoundException } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { Clock } from '../common/clock';
import { decodeCursor, encodeCursor } from '../common/paging';
import { EARLIEST_MS } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { Prisma } from '../generated/prisma/client';
import {
  DURATION,
  UnreadConversationDto,
  UnreadUserDto,
  UnreadUsersPageDto,
  UnreadUsersQueryDto,
  UserUnreadDto,
  UserUnreadQueryDto,
} from './unread.dto';
import { unreadMessages } from './unread-messages';

interface ConversationRow {
  conversation_id: string;
  receiver_type: string;
  guid: string | null;
  membership: 'known' | 'inferred';
  last_read_at: Date | null;
  oldest_unread_at: Date;
  unread: bigint;
  newest: Date;
}

interface UserRow {
  uid: string;
  unread: bigint;
  inferred: bigint;
  conversations: bigint;
  oldest: Date;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** unreadMessages for a query: the app passed as a parameter wherever the fragment names it. */
function unreadOf(u: string, appId: string, bounds: string): Prisma.Sql {
  const marker = '\u0000app\u0000';
  const parts = unreadMessages(u, marker, bounds).split(marker);
  return Prisma.sql(parts, ...parts.slice(1).map(() => appId));
}

/**
 * Unread counts from user_conversations (see UnreadDerivation): each of a user's conversations
 * with an unread message, counted from its oldest unread message on, one index range per
 * membership interval. No anti-join over receipts: the read watermark stands for them.
 */
@Injectable()
export class UnreadService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  async forUser(uid: string, query: UserUnreadQueryDto): Promise<UserUnreadDto> {
    const after = decodeCursor(query.cursor, ['time', 'string']);
    const appId = await this.appOf(uid, query.appId);
    const unread = unreadOf('uc', appId, 'AND m.sent_at >= uc.oldest_unread_at');
    const rows = await this.prisma.$queryRaw<ConversationRow[]>`
      SELECT uc.conversation_id, uc.receiver_type, uc.guid, uc.membership, uc.last_read_at,
             uc.oldest_unread_at, n.unread, n.newest
        FROM user_conversations uc
        CROSS JOIN LATERAL (SELECT count(*) AS unread, max(m.sent_at) AS newest FROM ${unread}) n
       WHERE uc.app_id = ${appId} AND uc.uid = ${uid} AND uc.oldest_unread_at IS NOT NULL
         AND n.unread > 0
       ORDER BY n.newest DESC, uc.conversation_id`;
    const items: UnreadConversationDto[] = rows.map((r) => ({
      conversationId: r.conversation_id,
      receiverType: r.receiver_type,
      guid: r.guid,
      unread: Number(r.unread),
      oldestUnreadSentAt: r.oldest_unread_at.toISOString(),
      newestUnreadSentAt: r.newest.toISOString(),
      lastReadAt: r.last_read_at?.toISOString() ?? null,
      membership: r.membership,
    }));
    // Every conversation is counted for the totals, so the page is cut here.
    const start =
      after === null
        ? 0
        : rows.findIndex(
            (r) =>
              r.newest.getTime() < after[0] ||
              (r.newest.getTime() === after[0] && r.conversation_id > after[1]),
          );
    const pageItems = start < 0 ? [] : items.slice(start, start + query.limit);
    const last = pageItems.at(-1);
    const more = start >= 0 && start + query.limit < items.length;
    return {
      uid,
      appId,
      total: items.reduce((sum, c) => sum + c.unread, 0),
      conversations: items.length,
      inferred: items.reduce((sum, c) => sum + (c.membership === 'inferred' ? c.unread : 0), 0),
      items: pageItems,
      nextCursor:
        more && last
          ? encodeCursor([Date.parse(last.newestUnreadSentAt), last.conversationId])
          : null,
    };
  }

  /** Users with a message unread since before now minus olderThan, by app then uid. */
  async olderThan(query: UnreadUsersQueryDto): Promise<UnreadUsersPageDto> {
    const [, amount, unit] = DURATION.exec(query.olderThan)!;
    const before =
      this.clock.now().getTime() - Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
    if (before < EARLIEST_MS) {
      throw new BadQueryParameterError('olderThan', 'olderThan reaches before 0001-01-01 UTC');
    }
    const after = decodeCursor(query.cursor, ['string', 'string']);
    const items: UnreadUserDto[] = [];
    let more = false;
    // One app, or every app holding unread state from the cursor's on, found one at a time.
    let next = query.appId ?? (await this.nextApp(after?.[0] ?? null, true));
    while (next !== null) {
      const app = next;
      const afterUid = after !== null && after[0] === app ? after[1] : null;
      const rows = await this.usersOf(
        app,
        new Date(before),
        afterUid,
        query.limit - items.length + 1,
      );
      items.push(
        ...rows.map((r) => ({
          appId: app,
          uid: r.uid,
          unread: Number(r.unread),
          conversations: Number(r.conversations),
          oldestUnreadSentAt: r.oldest.toISOString(),
          inferred: Number(r.inferred),
        })),
      );
      if (items.length > query.limit) {
        more = true;
        items.length = query.limit;
        break;
      }
      next = query.appId === undefined ? await this.nextApp(app, false) : null;
    }
    const last = items.at(-1);
    return {
      olderThan: query.olderThan,
      before: new Date(before).toISOString(),
      items,
      nextCursor: more && last ? encodeCursor([last.appId, last.uid]) : null,
    };
  }

  /** One app's users with an unread message sent before `before`, after `afterUid`, by uid. */
  private usersOf(app: string, before: Date, afterUid: string | null, limit: number) {
    const unread = unreadOf(
      'uc',
      app,
      'AND m.sent_at >= uc.oldest_unread_at AND m.sent_at < p.before',
    );
    return this.prisma.$queryRaw<UserRow[]>`
      WITH p AS (SELECT ${before}::timestamptz AS before),
      users AS (
        SELECT uc.uid FROM user_conversations uc
         WHERE uc.app_id = ${app} AND uc.oldest_unread_at < ${before}::timestamptz
           AND (${afterUid}::text IS NULL OR uc.uid > ${afterUid}::text)
         GROUP BY uc.uid
         ORDER BY uc.uid
         LIMIT ${limit}
      )
      SELECT uc.uid, sum(n.unread)::bigint AS unread, count(*) AS conversations,
             COALESCE(sum(n.unread) FILTER (WHERE uc.membership = 'inferred'), 0)::bigint AS inferred,
             min(uc.oldest_unread_at) AS oldest
        FROM users u
        CROSS JOIN p
        JOIN user_conversations uc
          ON uc.app_id = ${app} AND uc.uid = u.uid AND uc.oldest_unread_at < p.before
        CROSS JOIN LATERAL (SELECT count(*) AS unread FROM ${unread}) n
       GROUP BY uc.uid
       ORDER BY uc.uid`;
  }

  /**
   * The first app holding unread state from `from` on (itself included when `inclusive`): one
   * index probe, so walking the apps costs one per app (a loose index scan).
   */
  private async nextApp(from: string | null, inclusive: boolean): Promise<string | null> {
    const bound =
      from === null
        ? Prisma.empty
        : inclusive
          ? Prisma.sql`WHERE app_id >= ${from}`
          : Prisma.sql`WHERE app_id > ${from}`;
    const rows = await this.prisma.$queryRaw<{ app_id: string | null }[]>`
      SELECT min(app_id) AS app_id FROM user_conversations ${bound}`;
    return rows[0]?.app_id ?? null;
  }

  /** The user's one app: 404 when no conversation of theirs is known, 400 when several apps are. */
  private async appOf(uid: string, appId: string | undefined): Promise<string> {
    // With appId, one look-up on its shard (Citus); without, the user's apps (at most two).
    const apps = (
      appId !== undefined
        ? await this.prisma.$queryRaw<{ app_id: string }[]>`
            SELECT app_id FROM user_conversations WHERE app_id = ${appId} AND uid = ${uid} LIMIT 1`
        : await this.prisma.$queryRaw<{ app_id: string }[]>`
            SELECT app_id FROM user_conversations WHERE uid = ${uid}
             GROUP BY app_id ORDER BY app_id LIMIT 2`
    ).map((r) => r.app_id);
    if (apps.length > 1) {
      throw new BadQueryParameterError('appId', 'uid exists in several apps; pass appId');
    }
    if (apps.length === 0) {
      throw new NotFoundException({
        statusCode: 404,
        error: 'Not Found',
        message:
          appId === undefined
            ? `uid "${uid}" has no conversation`
            : `uid "${uid}" has no conversation in app "${appId}"`,
      });
    }
    return apps[0];
  }
}
