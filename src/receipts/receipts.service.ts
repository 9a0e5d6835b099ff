import { Injectable, NotFoundException } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { PrismaService } from '../db/prisma.service';
import { Receipt } from '../generated/prisma/client';
import { MessageReceiptsDto, MessageReceiptsQueryDto, ReceiptEntryDto } from './receipts.dto';

@Injectable()
export class ReceiptsService {
  constructor(private readonly prisma: PrismaService) {}

  /** Who got and read one message, from whatever is known: the message, its receipts, group aggregates. */
  async forMessage(messageId: string, query: MessageReceiptsQueryDto): Promise<MessageReceiptsDto> {
    const appId = query.appId ?? (await this.onlyAppKnowing(messageId));
    const [message, receipts, aggregates] = await Promise.all([
      this.prisma.message.findUnique({ where: { appId_id: { appId, id: messageId } } }),
      this.prisma.receipt.findMany({
        where: { appId, messageId },
        orderBy: [{ at: 'asc' }, { reader: 'asc' }],
      }),
      this.prisma.groupReceipt.findMany({ where: { appId, messageId } }),
    ]);
    if (message === null && receipts.length === 0 && aggregates.length === 0) {
      throw new NotFoundException(`message ${messageId} is not known in app ${appId}`);
    }

    // Until the message arrives, its receipts say what they can about it.
    const receiverType = asReceiverType(
      message?.receiverType ??
        receipts.find((r) => r.receiverType !== null)?.receiverType ??
        (aggregates.length > 0 ? 'group' : null),
    );
    const readers = [...new Set(receipts.map((r) => r.reader))];
    const receiver =
      message?.receiver ??
      (receiverType === 'group'
        ? (receipts.find((r) => r.receiverType === 'group' && r.receiver !== null)?.receiver ??
          aggregates.find((a) => a.receiver !== null)?.receiver ??
          null)
        : readers.length === 1
          ? readers[0]
          : null);
    const delivered = receipts.filter((r) => r.kind === 'delivered').map(toEntry);
    const read = receipts.filter((r) => r.kind === 'read').map(toEntry);
    const aggregateAt = (kind: string) =>
      aggregates.find((a) => a.kind === kind)?.at.toISOString() ?? null;

    return {
      messageId,
      appId,
      sender:
        message?.sender ??
        receipts.find((r) => r.messageSender !== null)?.messageSender ??
        aggregates.find((a) => a.messageSender !== null)?.messageSender ??
        null,
      receiver,
      receiverType,
      conversationId: message?.conversationId ?? null,
      category: message?.category ?? null,
      type: message?.type ?? null,
      sentAt: message?.sentAt.toISOString() ?? null,
      editedAt: message?.editedAt?.toISOString() ?? null,
      deletedAt: message?.deletedAt?.toISOString() ?? null,
      delivered,
      read,
      summary: {
        recipients: receiverType === 'user' ? 1 : readers.length,
        deliveredCount: delivered.length,
        readCount: read.length,
        // A one-to-one message has one recipient: its receipt is the "to all".
        deliveredToAllAt:
          receiverType === 'group' ? aggregateAt('deliveredToAll') : (delivered[0]?.at ?? null),
        readByAllAt: receiverType === 'group' ? aggregateAt('readByAll') : (read[0]?.at ?? null),
      },
    };
  }

  /** Without appId, the id must be known in exactly one app; the others' ids are not told. */
  private async onlyAppKnowing(messageId: string): Promise<string> {
    const apps = await this.prisma.$queryRaw<{ app_id: string }[]>`
      SELECT app_id FROM messages WHERE id = ${messageId}
       UNION
      SELECT app_id FROM receipts WHERE message_id = ${messageId}
       UNION
      SELECT app_id FROM group_receipts WHERE message_id = ${messageId}
       ORDER BY app_id`;
    if (apps.length === 0) {
      throw new NotFoundException(`message ${messageId} is not known`);
    }
    if (apps.length > 1) {
      throw new BadQueryParameterError(
        'appId',
        `message ${messageId} is known in several apps: pass appId`,
      );
    }
    return apps[0].app_id;
  }
}

function toEntry(r: Receipt): ReceiptEntryDto {
  return {
    uid: r.reader,
    at: r.at.toISOString(),
    latencyMs: r.latencyMs === null ? null : Number(r.latencyMs),
    implied: r.implied,
  };
}

const asReceiverType = (value: string | null): 'user' | 'group' | null =>
  value === 'user' || value === 'group' ? value : null;
