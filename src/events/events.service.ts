import { Injectable } from '@nestjs/common';
import { decodeCursor, page, Page } from '../common/paging';
import { assertRange } from '../common/query-params';
import { PrismaService } from '../db/prisma.service';
import { ReadReplica } from '../db/read-replica.service';
import { Prisma } from '../generated/prisma/client';
import {
  AppsDto,
  AppsQueryDto,
  EventsQueryDto,
  RejectedEventDto,
  RejectedEventsQueryDto,
  StoredEventDto,
} from './events.dto';

@Injectable()
export class EventsService {
  constructor(private readonly db: ReadReplica) {}

  /** The primary's client, or the replica's while a @PrefersReplica route reads there. */
  private get prisma(): PrismaService {
    return this.db.prisma;
  }

  /** The apps of the raw log, by app id, with their event counts and latest event times. */
  async apps(query: AppsQueryDto): Promise<AppsDto> {
    const only = query.appId === undefined ? Prisma.empty : Prisma.sql`AND app_id = ${query.appId}`;
    // One pass over an index of the log (the counts read every entry anyway), grouped by app:
    // on Citus each shard groups its own apps.
    const rows = await this.prisma.$queryRaw<
      { app_id: string; events: bigint; last_event_at: Date }[]
    >`
      SELECT app_id, count(*) AS events, max(event_at) AS last_event_at
        FROM webhook_events
       WHERE true ${only}
       GROUP BY app_id
       ORDER BY app_id`;
    return {
      items: rows.map((r) => ({
        appId: r.app_id,
        events: Number(r.events),
        lastEventAt: r.last_event_at.toISOString(),
      })),
    };
  }

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
