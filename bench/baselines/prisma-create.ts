// Baseline (d): a plain per-request prisma.webhookEvent.create through the pg driver adapter,
// the way a first Prisma 7 version of the service would store one event.
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { Prisma, PrismaClient } from '../../src/generated/prisma/client';
import { serveBaseline, text } from './server';

const prisma = new PrismaClient({
  adapter: new PrismaPg(new Pool({ connectionString: process.env.DATABASE_URL, max: 50 })),
});

void serveBaseline(
  async ({ event, sha256 }) => {
    const now = new Date();
    const row = await prisma.webhookEvent.create({
      data: {
        appId: text(event.appId) ?? 'unknown',
        trigger: text(event.trigger) ?? 'unknown',
        webhook: text(event.webhook),
        eventAt: now,
        receivedMonth: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
        bodySha256: new Uint8Array(sha256),
        body: event as Prisma.InputJsonValue,
      },
      select: { id: true },
    });
    return { eventId: row.id.toString(), duplicate: false };
  },
  () => prisma.$disconnect(),
);
