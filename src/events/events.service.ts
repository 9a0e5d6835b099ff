import { Injectable } from '@nestjs/common';
import { decodeCursor, page, Page } from '../common/paging';
import { assertRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { Prisma } from '../generated/prisma/client';
import {
  EventsQueryDto,
  RejectedEventDto,
  RejectedEventsQueryDto,
  StoredEventDto,
} from './events.dto';

@Injectable()
export class EventsService {
  constructor(private readonly prisma: PrismaService) {}

  /** The raw event log, newest event time first. */
  async list(query: EventsQueryDto): Promise<Page<StoredEventDto>> {
    assertRange(query.from, query.to);
    const after = decodeCursor(query.cursor, ['time', 'id']);
    const where: Prisma.WebhookEventWhereInput = {
      appId: query.appId,
      trigger: query.trigger,
      uid: query.uid,
      eventAt: { gte: query.from, lt: query.to },
    };
    if (after) {
      const at = new Date(after[0]);
      where.OR = [{ eventAt: { lt: at } }, { eventAt: at, id: { lt: BigInt(after[1]) } }];
    }
    const rows = await this.prisma.webhookEvent.findMany({
      where,
      orderBy: [{ eventAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      omit: { bodySha256: true, naturalKey: true },
    });
    const { items, nextCursor } = page(rows, query.limit, (r) => [
      r.eventAt.getTime(),
      r.id.toString(),
    ]);
    return {
      items: items.map((r) => ({
        eventId: r.id.toString(),
        appId: r.appId,
        trigger: r.trigger,
        webhook: r.webhook,
        uid: r.uid,
        eventAt: r.eventAt.toISOString(),
        receivedAt: r.receivedAt.toISOString(),
        body: r.body,
      })),
      nextCursor,
    };
  }

  /** Bodies that were answered 400, newest first, byte for byte. */
  async listRejected(query: RejectedEventsQueryDto): Promise<Page<RejectedEventDto>> {
    const after = decodeCursor(query.cursor, ['id']);
    const rows = await this.prisma.rejectedEvent.findMany({
      where: { appId: query.appId, ...(after ? { id: { lt: BigInt(after[0]) } } : {}) },
      orderBy: { id: 'desc' },
      take: query.limit + 1,
    });
    const { items, nextCursor } = page(rows, query.limit, (r) => [r.id.toString()]);
    return {
      items: items.map((r) => ({
        id: r.id.toString(),
        appId: r.appId,
        trigger: r.trigger,
        reason: r.reason,
        field: r.field,
        contentType: r.contentType,
        receivedAt: r.receivedAt.toISOString(),
        body: Buffer.from(r.body).toString('utf8'),
      })),
      nextCursor,
    };
  }
}
