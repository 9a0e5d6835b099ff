import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { replayFiles, replayRejected } from '../scripts/replay';
import { directSink, httpSink, WebhookSink } from '../scripts/webhook-sink';
import {
  afterMessage,
  currentConnection,
  currentReceipt,
  documented,
  legacyReceipt,
  messageEvent,
} from './factories';
import { resetDatabase, rows, startApp, testDatabaseUrl, withDb } from './setup/test-app';
import { post } from './setup/http';

const count = async (table: string, where = 'true') =>
  Number((await rows<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0].n);

const T = 1_763_000_000; // seconds

/** A day's export: both formats, a receipt before its message, a body that can never be used. */
function history(): string {
  const lines = [
    currentReceipt({
      messageId: '501',
      reader: 'bob',
      messageSender: 'ann',
      kind: 'read',
      at: T + 90,
    }),
    afterMessage({ id: '501', sender: 'ann', receiver: 'bob', sentAt: T }),
    messageEvent('message_sent', { id: '502', sender: 'bob', receiver: 'ann', sentAt: T + 100 }),
    legacyReceipt({
      messageId: '502',
      reader: 'ann',
      messageSender: 'bob',
      kind: 'delivered',
      at: T + 101,
    }),
    currentConnection({
      uid: 'ann',
      action: 'connected',
      at: T * 1000,
      status: 'online',
      connectedAt: T * 1000,
    }),
  ].map((body) => JSON.stringify(body));
  // An item of GET /events stands for the webhook it stored.
  const logged = {
    eventId: '77',
    appId: 'app-one',
    trigger: 'after_message',
    body: afterMessage({ id: '503', sender: 'ann', receiver: 'bob', sentAt: T + 200 }),
  };
  return [...lines, '', JSON.stringify(logged), '{"trigger": "after_message", "data": ', ''].join(
    '\n',
  );
}

describe('npm run replay', () => {
  let app: NestFastifyApplication;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    app = await startApp();
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => resetDatabase());

  describe('a file or a folder of historical events', () => {
    it('stores each event once however often it is replayed, directly or over HTTP', async () => {
      const file = path.join(dir, 'day.ndjson');
      writeFileSync(file, history());

      const direct = await directSink({ databaseUrl: testDatabaseUrl() });
      let first, second;
      try {
        first = await replayFiles([file], { sink: direct, concurrency: 4 });
        second = await replayFiles([file], { sink: direct, concurrency: 4 });
      } finally {
        await direct.close();
      }
      expect(first.tally.counts).toEqual({
        stored: 6,
        duplicate: 0,
        accepted: 0,
        rejected: 1,
        failed: 0,
      });
      expect([...first.tally.reasons.keys()]).toEqual([
        expect.stringMatching(/^rejected: body is not valid JSON/),
      ]);
      expect(second.tally.counts).toMatchObject({ stored: 0, duplicate: 6, rejected: 1 });

      const before = await snapshot();
      const overHttp = await replayFiles([dir], { sink: httpSink({ url }), concurrency: 8 });
      expect(overHttp.files).toBe(1);
      expect(overHttp.tally.counts).toMatchObject({ stored: 0, duplicate: 6, rejected: 1 });
      expect(await snapshot()).toEqual(before);
      expect(before).toMatchObject({ webhook_events: 6, messages: 3, sessions: 1 });
      // The read arrived before its message and still has its latency.
      expect(
        await rows(`SELECT latency_ms FROM receipts WHERE message_id = '501' AND kind = 'read'`),
      ).toEqual([{ latency_ms: '90000' }]);
    });

    it('sends a .json file as one body, and tells before_message apart', async () => {
      const folder = mkdtempSync(path.join(dir, 'documented-'));
      writeFileSync(path.join(folder, 'a.json'), documented('after_message'));
      writeFileSync(path.join(folder, 'b.json'), documented('before_message'));
      writeFileSync(path.join(folder, 'notes.txt'), 'not an event');
      const summary = await replayFiles([folder], { sink: httpSink({ url }) });
      expect(summary.files).toBe(2);
      expect(summary.tally.counts).toMatchObject({ stored: 1, accepted: 1, rejected: 0 });
    });
  });

  describe('--rejected', () => {
    const constraint = 'replay_test_no_mallory';
    afterEach(() =>
      withDb((db) =>
        db.query(`ALTER TABLE webhook_events DROP CONSTRAINT IF EXISTS ${constraint}`),
      ),
    );

    it('replays what a fix makes storable, marks it replayed, and keeps the rest as it was', async () => {
      // A "bug": the database refuses Mallory's messages, so they are answered 400 and kept.
      await withDb((db) =>
        db.query(
          `ALTER TABLE webhook_events ADD CONSTRAINT ${constraint} CHECK (uid <> 'mallory')`,
        ),
      );
      const refused = JSON.stringify(
        afterMessage({ id: '900', sender: 'mallory', receiver: 'bob' }),
      );
      expect((await post(app, refused)).statusCode).toBe(400);
      // Enough broken ones that ids pass 9 (paging must follow ids as numbers).
      const broken = Array.from({ length: 11 }, (_, i) => `{"trigger": nope${i}}`);
      for (const body of broken) {
        expect((await post(app, body)).statusCode).toBe(400);
      }
      expect(await count('rejected_events')).toBe(12);

      // The fix ships.
      await withDb((db) => db.query(`ALTER TABLE webhook_events DROP CONSTRAINT ${constraint}`));

      const sink = httpSink({ url });
      const summary = await replayRejected({ sink, databaseUrl: testDatabaseUrl() });
      expect(summary).toMatchObject({ candidates: 12, replayed: 1, stillRejected: 11, failed: 0 });
      expect(summary.tally.total).toBe(12);
      expect(await count('messages', `id = '900' AND sender = 'mallory'`)).toBe(1);
      expect(
        await rows(`SELECT id, replayed_at IS NOT NULL AS replayed, convert_from(body, 'UTF8') AS body
                      FROM rejected_events ORDER BY id`),
      ).toEqual([
        { id: '1', replayed: true, body: refused },
        ...broken.map((body, i) => ({ id: String(i + 2), replayed: false, body })),
      ]);

      // Again: the replayed row is done, the broken one is tried and still kept exactly once.
      const again = await replayRejected({ sink, databaseUrl: testDatabaseUrl() });
      expect(again).toMatchObject({ candidates: 11, replayed: 0, stillRejected: 11 });
      expect(await count('rejected_events')).toBe(12);
      expect(await count('webhook_events')).toBe(1);
    });

    it('filters by --since and --app, directly without HTTP', async () => {
      await withDb((db) =>
        db.query(
          `INSERT INTO rejected_events (received_at, app_id, trigger, reason, field, content_type, body)
           VALUES ('2026-01-01', 'app-one', 'after_message', 'old', 'data', 'application/json', $1),
                  (now(), 'app-two', 'after_message', 'other app', 'data', 'application/json', $2),
                  (now(), 'app-one', 'after_message', 'fixed since', 'data', 'Application/json', $3)`,
          [
            Buffer.from(JSON.stringify(afterMessage({ id: '1', sender: 'a', receiver: 'b' }))),
            Buffer.from(
              JSON.stringify(
                afterMessage({ id: '2', sender: 'a', receiver: 'b', appId: 'app-two' }),
              ),
            ),
            Buffer.from(JSON.stringify(afterMessage({ id: '3', sender: 'a', receiver: 'b' }))),
          ],
        ),
      );
      const direct: WebhookSink = await directSink({ databaseUrl: testDatabaseUrl() });
      try {
        const summary = await replayRejected({
          sink: direct,
          databaseUrl: testDatabaseUrl(),
          since: new Date('2026-06-01'),
          appId: 'app-one',
        });
        expect(summary).toMatchObject({ candidates: 1, replayed: 1 });
      } finally {
        await direct.close();
      }
      expect(await rows(`SELECT id FROM messages ORDER BY id`)).toEqual([{ id: '3' }]);
      expect(await count('rejected_events', 'replayed_at IS NOT NULL')).toBe(1);
    });
  });
});

async function snapshot(): Promise<Record<string, number>> {
  const tables = ['webhook_events', 'messages', 'receipts', 'sessions', 'connection_events'];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    counts[table] = await count(table);
  }
  return counts;
}
