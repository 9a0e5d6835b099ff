import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { simulate, SimulateSummary } from '../scripts/simulate';
import { SimEvent, TrafficModel } from '../scripts/traffic-model';
import { resetDatabase, rows, startApp } from './setup/test-app';

const HOUR = 3_600_000;

function drain(model: TrafficModel): SimEvent[] {
  const events: SimEvent[] = [];
  for (let e = model.next(); e !== undefined; e = model.next()) {
    events.push(e);
  }
  return events;
}

describe('npm run simulate', () => {
  describe(TrafficModel.name, () => {
    const now = Date.UTC(2026, 10, 25, 15);
    const model = (seed: number) =>
      new TrafficModel({
        appId: 'sim',
        users: 20,
        start: now - 12 * HOUR,
        liveFrom: now,
        end: now + 10 * 60_000,
        rate: 5,
        seed,
      });

    it('is reproducible by seed', () => {
      expect(drain(model(7)).map((e) => e.body)).toEqual(drain(model(7)).map((e) => e.body));
      expect(drain(model(8)).map((e) => e.body)).not.toEqual(drain(model(7)).map((e) => e.body));
    });

    it('posts in send order, with events out of their own order, retries and broken bodies', () => {
      const events = drain(model(7));
      expect(events.every((e, i) => i === 0 || events[i - 1].sendAt <= e.sendAt)).toBe(true);
      expect(events.some((e, i) => i > 0 && e.at < events[i - 1].at - 1000)).toBe(true);
      expect(events.every((e) => e.at < now + 10 * 60_000)).toBe(true);
      // Before the start, only the connects of the connections open at the start.
      const early = events.filter((e) => e.at < now - 12 * HOUR);
      expect(early.length).toBeGreaterThan(0);
      expect(early.every((e) => /connect.*"(connected)"/.test(e.body) || e.kind === 'broken')).toBe(
        true,
      );
      const retries = events.filter((e) => e.kind === 'retry');
      expect(retries.length).toBeGreaterThan(0);
      for (const retry of retries) {
        const original = events.find((e) => e.kind === 'event' && e.body === retry.body)!;
        expect([10_000, 30_000]).toContain(Math.round(retry.sendAt - original.sendAt));
      }
      expect(events.filter((e) => e.kind === 'broken').length).toBeGreaterThan(0);
    });

    it('gives a seed the same traffic, relative to its start, at any hour', () => {
      // Times relative to the simulated present; digits masked in bodies (ids and times are
      // derived from the absolute time), so what is left is who sends what, when, and how.
      const shape = (start: number) =>
        drain(
          new TrafficModel({
            appId: 'sim',
            users: 20,
            start: start - 8 * HOUR,
            liveFrom: start,
            end: start + 10 * 60_000,
            rate: 5,
            seed: 42,
          }),
        ).map((e) => ({
          at: e.at - start,
          sendAt: e.sendAt - start,
          trigger: e.trigger,
          format: e.format,
          kind: e.kind,
          body: e.body.replace(/\d+/g, '#'),
        }));
      const morning = shape(Date.UTC(2026, 11, 3, 6, 27));
      expect(morning.length).toBeGreaterThan(500);
      expect(shape(Date.UTC(2026, 11, 3, 6, 50))).toEqual(morning);
      expect(shape(Date.UTC(2026, 11, 3, 23, 58, 30))).toEqual(morning);
      expect(shape(Date.UTC(2026, 11, 4, 0, 1))).toEqual(morning);
    });

    it('keeps to about --rate webhooks per second once live', () => {
      const live = drain(model(7)).filter((e) => e.at >= now);
      const perSecond = live.length / 600;
      expect(perSecond).toBeGreaterThan(2.5);
      expect(perSecond).toBeLessThan(10);
    });
  });

  describe('against the service', () => {
    let app: NestFastifyApplication;
    let summary: SimulateSummary;

    beforeAll(async () => {
      await resetDatabase();
      app = await startApp();
      await app.listen(0, '127.0.0.1');
      summary = await simulate({
        url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`,
        users: 10,
        minutes: 0,
        rate: 5,
        historyHours: 8,
        appId: 'sim-app',
        seed: 42,
        // A fixed present: what is sent, and so what is asserted below, is the same at any hour.
        now: Date.UTC(2026, 11, 3, 6, 27),
      });
    }, 60_000);
    afterAll(() => app?.close());

    it('is answered like CometChat traffic: stored, duplicates, a few rejected, none failed', async () => {
      const { counts } = summary.tally;
      expect(counts.failed).toBe(0);
      expect(counts.stored).toBeGreaterThan(200);
      expect(counts.duplicate).toBeGreaterThanOrEqual(
        summary.model.retries - summary.model.retriesOfBeforeMessage,
      );
      expect(counts.rejected).toBe(summary.model.broken);
      const [stored] = await rows<{ events: string; rejected: string }>(
        `SELECT (SELECT count(*) FROM webhook_events WHERE trigger <> 'before_message') AS events,
                (SELECT count(*) FROM rejected_events) AS rejected`,
      );
      expect(Number(stored.events)).toBe(counts.stored);
      expect(Number(stored.rejected)).toBe(counts.rejected);
    });

    it('uses both formats for every kind of event', async () => {
      const triggers = (
        await rows<{ trigger: string }>(`SELECT DISTINCT trigger FROM webhook_events`)
      )
        .map((r) => r.trigger)
        .sort();
      expect(triggers).toEqual(
        expect.arrayContaining([
          'after_connection_status_changed',
          'after_message',
          'message_delivered_to_all',
          'message_delivery_receipt',
          'message_read_receipt',
          'message_sent',
          'user_connection_status_changed',
        ]),
      );
      const receiptFormats = await rows<{ legacy: boolean }>(
        `SELECT DISTINCT body->'data' ? 'receiptType' AS legacy FROM webhook_events
          WHERE trigger = 'message_read_receipt'`,
      );
      expect(receiptFormats).toHaveLength(2);
    });

    it('fills presence, sessions (some closed by inference), receipts (some implied) and groups', async () => {
      const [r] = await rows<Record<string, string>>(
        `SELECT (SELECT count(*) FROM presence WHERE status = 'online') AS online,
                (SELECT count(*) FROM sessions WHERE closed_by = 'event') AS closed,
                (SELECT count(*) FROM sessions WHERE closed_by = 'inferred') AS inferred,
                (SELECT count(*) FROM receipts WHERE kind = 'read' AND implied) AS implied,
                (SELECT count(*) FROM receipts WHERE kind = 'read' AND latency_ms > 0) AS read,
                (SELECT count(*) FROM group_receipts) AS group_receipts,
                (SELECT count(DISTINCT receiver_type) FROM messages) AS receiver_types`,
      );
      expect(Number(r.online)).toBeGreaterThan(0);
      expect(Number(r.closed)).toBeGreaterThan(10);
      expect(Number(r.inferred)).toBeGreaterThan(0);
      expect(Number(r.implied)).toBeGreaterThan(0);
      expect(Number(r.read)).toBeGreaterThan(10);
      expect(Number(r.group_receipts)).toBeGreaterThan(0);
      expect(Number(r.receiver_types)).toBe(2);
    });
  });
});
