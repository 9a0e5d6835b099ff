import { Injectable } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { decodeCursor, page } from '../common/paging';
import { assertRange, effectiveRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { ReadReplica } from '../db/read-replica.service';
import { messageDto } from './messages.service';
import { Prisma } from '../generated/prisma/client';
import {
  BusyConversationsDto,
  ConversationMessagesPageDto,
  ConversationMessagesQueryDto,
  ConversationsQueryDto,
  MessageReadStateDto,
} from './conversations.dto';

const DAY_MS = 86_400_000;

interface ReceiptRow {
  message_id: string;
  reader: string;
  kind: string;
  at: Date;
  implied: boolean;
  latency_ms: bigint | null;
}

interface ConversationRow {
  app_id: string;
  conversation_id: string;
  receiver_type: string;
  messages: bigint;
  edited: bigint;
  deleted: bigint;
  senders: bigint;
  last_message_at: Date | null;
  read_p50_ms: number | null;
}

@Injectable()
export class ConversationsService {
  constructor(private readonly db: ReadReplica) {}

  /** The primary's client, or the replica's while a @PrefersReplica route reads there. */
  private get prisma(): PrismaService {
    return this.db.prisma;
  }

  /** The busiest conversations by messages sent in the window, most messages first. */
  async busiest(query: ConversationsQueryDto): Promise<BusyConversationsDto> {
    const range = effectiveRange(query, DAY_MS);
    const [from, to] = [new Date(range.from), new Date(range.to)];
    assertRange(from, to);
    const only = (alias: string) =>
      query.appId === undefined
        ? Prisma.empty
        : Prisma.sql`AND ${Prisma.raw(alias)}.app_id = ${query.appId}`;
    const type =
      query.receiverType === undefined
        ? Prisma.empty
        : Prisma.sql`AND receiver_type = ${query.receiverType}`;
    // Deleted messages are counted apart, never as messages, senders or read latency; rows of
    // category "action" (edits, deletes) are not conversation messages. Read latency of the same
    // messages: receipts carry the message's conversation and sentAt. Joins on app_id, and no
    // correlated subquery, so that Citus runs it per shard (on one shard with appId).
    const rows = await this.prisma.$queryRaw<ConversationRow[]>`
      WITH top AS (
        SELECT app_id, conversation_id, min(receiver_type) AS receiver_type,
               count(*) FILTER (WHERE deleted_at IS NULL) AS messages,
               count(*) FILTER (WHERE deleted_at IS NULL AND edited_at IS NOT NULL) AS edited,
               count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
               count(DISTINCT sender) FILTER (WHERE deleted_at IS NULL) AS senders,
               max(sent_at) FILTER (WHERE deleted_at IS NULL) AS last_message_at
          FROM messages t
         WHERE sent_at >= ${from} AND sent_at < ${to} AND category IS DISTINCT FROM 'action'
               ${only('t')} ${type}
         GROUP BY app_id, conversation_id
         ORDER BY messages DESC, last_message_at DESC NULLS LAST, deleted DESC, conversation_id
         LIMIT ${query.limit}
      ), latency AS (
        SELECT r.app_id, r.conversation_id,
               round((percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms))::numeric)::float8 AS read_p50_ms
          FROM receipts r
          JOIN top t ON t.app_id = r.app_id AND t.conversation_id = r.conversation_id
          LEFT JOIN messages m ON m.app_id = r.app_id AND m.id = r.message_id ${only('m')}
         WHERE r.kind = 'read' AND r.sent_at >= ${from} AND r.sent_at < ${to}
           AND m.deleted_at IS NULL ${only('r')}
         GROUP BY r.app_id, r.conversation_id
      )
      SELECT t.*, l.read_p50_ms
        FROM top t LEFT JOIN latency l ON l.app_id = t.app_id AND l.conversation_id = t.conversation_id
       ORDER BY t.messages DESC, t.last_message_at DESC NULLS LAST, t.deleted DESC, t.conversation_id`;
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      items: rows.map((r) => ({
        appId: r.app_id,
        conversationId: r.conversation_id,
        receiverType: r.receiver_type,
        messages: Number(r.messages),
        edited: Number(r.edited),
        deleted: Number(r.deleted),
        senders: Number(r.senders),
        lastMessageAt: r.last_message_at?.toISOString() ?? null,
        readP50Ms: r.read_p50_ms,
      })),
    };
  }

  /** A conversation's messages (no action messages), newest first, with their receipts. */
  async messages(
    conversationId: string,
    query: ConversationMessagesQueryDto,
  ): Promise<ConversationMessagesPageDto> {
    assertRange(query.from, query.to);
    const after = decodeCursor(query.cursor, ['time', 'string']);
    const appId = query.appId ?? (await this.appOf(conversationId));
    if (appId === null) {
      return { items: [], nextCursor: null };
    }
    const where: Prisma.MessageWhereInput = {
      appId,
      conversationId,
      OR: [{ category: null }, { category: { not: 'action' } }],
      sentAt: { gte: query.from, lt: query.to },
    };
    if (after) {
      const at = new Date(after[0]);
      where.AND = {
        OR: [{ sentAt: { lt: at } }, { sentAt: at, id: { lt: after[1] } }],
      };
    }
    const rows = await this.prisma.message.findMany({
      where,
      orderBy: [{ sentAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      omit: { eventId: true },
    });
    const { items, nextCursor } = page(rows, query.limit, (m) => [m.sentAt.getTime(), m.id]);
    // One statement whatever the page size: the ids as one array parameter.
    const receipts =
      items.length === 0
        ? []
        : await this.prisma.$queryRaw<ReceiptRow[]>`
            SELECT message_id, reader, kind, at, implied, latency_ms
              FROM receipts
             WHERE app_id = ${appId} AND message_id = ANY(${items.map((m) => m.id)}::text[])
             ORDER BY message_id, kind, reader`;
    const byMessage = new Map<
      string,
      { delivered: MessageReadStateDto[]; read: MessageReadStateDto[] }
    >();
    for (const m of items) {
      byMessage.set(m.id, { delivered: [], read: [] });
    }
    const sentAt = new Map(items.map((m) => [m.id, m.sentAt.getTime()]));
    for (const r of receipts) {
      const entry = {
        uid: r.reader,
        at: r.at.toISOString(),
        latencyMs:
          r.latency_ms === null ? r.at.getTime() - sentAt.get(r.message_id)! : Number(r.latency_ms),
        implied: r.implied,
      };
      byMessage.get(r.message_id)?.[r.kind === 'read' ? 'read' : 'delivered'].push(entry);
    }
    return {
      items: items.map((m) => ({ ...messageDto(m), ...byMessage.get(m.id)! })),
      nextCursor,
    };
  }

  /** The one app holding the conversation; null when none does, a 400 when several do. */
  private async appOf(conversationId: string): Promise<string | null> {
    // conversation_id leads no index, but PostgreSQL 18 skips along (app_id, conversation_id,
    // sent_at) one app at a time; on Citus each shard looks at its own apps.
    const apps = await this.prisma.$queryRaw<{ app_id: string }[]>`
      SELECT app_id FROM messages WHERE conversation_id = ${conversationId}
       GROUP BY app_id ORDER BY app_id LIMIT 2`;
    if (apps.length > 1) {
      throw new BadQueryParameterError(
        'appId',
        `conversation ${conversationId} is known in several apps: pass appId`,
      );
    }
    return apps[0]?.app_id ?? null;
  }
}
