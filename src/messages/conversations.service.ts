import { Injectable } from '@nestjs/common';
import { assertRange, effectiveRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { Prisma } from '../generated/prisma/client';
import { BusyConversationsDto, ConversationsQueryDto } from './conversations.dto';

const DAY_MS = 86_400_000;

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
  constructor(private readonly prisma: PrismaService) {}

  /** The busiest conversations by messages sent in the window, most messages first. */
  async busiest(query: ConversationsQueryDto): Promise<BusyConversationsDto> {
    const range = effectiveRange(query, DAY_MS);
    const [from, to] = [new Date(range.from), new Date(range.to)];
    assertRange(from, to);
    const app = query.appId === undefined ? Prisma.empty : Prisma.sql`AND app_id = ${query.appId}`;
    const type =
      query.receiverType === undefined
        ? Prisma.empty
        : Prisma.sql`AND receiver_type = ${query.receiverType}`;
    // Deleted messages are counted apart, never as messages, senders or read latency; rows of
    // category "action" (edits, deletes) are not conversation messages. Read latency of the same
    // messages: receipts carry the message's conversation and sentAt.
    const rows = await this.prisma.$queryRaw<ConversationRow[]>`
      WITH top AS (
        SELECT app_id, conversation_id, min(receiver_type) AS receiver_type,
               count(*) FILTER (WHERE deleted_at IS NULL) AS messages,
               count(*) FILTER (WHERE deleted_at IS NULL AND edited_at IS NOT NULL) AS edited,
               count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
               count(DISTINCT sender) FILTER (WHERE deleted_at IS NULL) AS senders,
               max(sent_at) FILTER (WHERE deleted_at IS NULL) AS last_message_at
          FROM messages
         WHERE sent_at >= ${from} AND sent_at < ${to} AND category IS DISTINCT FROM 'action'
               ${app} ${type}
         GROUP BY app_id, conversation_id
         ORDER BY messages DESC, last_message_at DESC NULLS LAST, deleted DESC, conversation_id
         LIMIT ${query.limit}
      )
      SELECT t.*,
             (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms))::numeric)::float8
                FROM receipts r
               WHERE r.app_id = t.app_id AND r.conversation_id = t.conversation_id AND r.kind = 'read'
                 AND r.sent_at >= ${from} AND r.sent_at < ${to}
                 AND NOT EXISTS (SELECT 1 FROM messages m
                                  WHERE m.app_id = r.app_id AND m.id = r.message_id
                                    AND m.deleted_at IS NOT NULL)) AS read_p50_ms
        FROM top t
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
}
