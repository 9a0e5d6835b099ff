import { createHash } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { readCometChatEvent } from '../src/ingest/cometchat-event';
import { IngestWriter } from '../src/ingest/ingest-writer.service';
import { RebuildRefusedError, requeueForRederive } from '../src/ingest/rederive';
import { ensureCurrentPartitions, listPartitions } from '../src/db/partitions';
import { RetentionRefusedError, applyRetention, parseAge } from '../src/db/retention';
import { DerivationRunner } from '../src/ingest/derivation-runner.service';
import { main as retentionCli } from '../scripts/retention';
import {
  afterMessage,
  currentConnection,
  currentReceipt,
  groupAggregate,
  legacyConnection,
} from './factories';
import { get, post } from './setup/http';
import {
  resetDatabase,
  rows,
  startApp,
  testDatabaseUrl,
  waitForDerivation,
  withDb,
} from './setup/test-app';

const DAY = 86_400_000;
const T = Date.UTC(2026, 10, 20, 9, 0, 0); // the events' own times
const NINETY_DAYS = 90 * DAY;

const bodies = [
  afterMessage({ id: '101', sender: 'alice', receiver: 'bob', sentAt: T / 1000 }),
  afterMessage({ id: '102', sender: 'alice', receiver: 'bob', sentAt: T / 1000 + 60 }),
  // bob reads 102: implies reading 101, and both deliveries
  currentReceipt({
    messageId: '102',
    messageSender: 'alice',
    reader: 'bob',
    kind: 'read',
    at: T + 300_000,
  }),
  groupAggregate({
    messageId: '102',
    kind: 'readByAll',
    at: T + 400_000,
    messageSender: 'alice',
    group: 'g1',
  }),
  currentConnection({ uid: 'carol', action: 'connected', at: T, status: 'online', connectedAt: T }),
  currentConnection({
    uid: 'carol',
    action: 'disconnected',
    at: T + 3_600_000,
    status: 'offline',
    connectedAt: T,
  }),
  legacyConnection({
    uid: 'dave',
    type: 'connected',
    at: T,
    status: 'online',
    connection: { session: 'd1', connectedAt: T },
  }),
];

/** Every derived table, as the API's answers are made of. */
const derived = async () => ({
  messages: await rows(`SELECT * FROM messages ORDER BY app_id, id`),
  receipts: await rows(`SELECT * FROM receipts ORDER BY app_id, message_id, reader, kind`),
  groupReceipts: await rows(`SELECT * FROM group_receipts ORDER BY app_id, message_id, kind`),
  sessions: await rows(`SELECT * FROM sessions ORDER BY app_id, uid, session_key`),
  presence: await rows(`SELECT * FROM presence ORDER BY app_id, uid`),
  histogram: await rows(
    `SELECT * FROM latency_histogram WHERE count <> 0 ORDER BY app_id, kind, span_hours, start, receiver_type, implied, bin`,
  ),
});
/** Posts one by one, in order, and waits until all is derived. */
async function postInOrder(app: NestFastifyApplication, list: object[]) {
  const answers = [];
  for (const body of list) {
    answers.push(await post(app, body));
  }
  await withDb((db) => waitForDerivation(db));
  return answers;
}
const rawCounts = () =>
  rows<{ events: number; connections: number }>(
    `SELECT (SELECT count(*)::int FROM webhook_events) AS events,
            (SELECT count(*)::int FROM connection_events) AS connections`,
  ).then((r) => r[0]);

describe('retention (npm run retention)', () => {
  let app: NestFastifyApplication | undefined;
  const started = async (env: Record<string, string> = {}) => (app = await startApp(env));
  let pool: Pool;

  beforeEach(async () => {
    await resetDatabase();
    await withDb((db) => db.query(`DELETE FROM retention_horizon`));
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 3 });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await resetDatabase();
    await withDb(async (db) => {
      await db.query(`DELETE FROM retention_horizon`);
      // Later test files write today: give them back the months retention dropped.
      await ensureCurrentPartitions(db, Date.now());
    });
    await pool.end();
  });

  it('drops the raw log older than the age; derived state and the answers stay whole', async () => {
    const app = await started();
    expect((await postInOrder(app, bodies)).map((r) => r.statusCode)).toEqual(
      bodies.map(() => 200),
    );
    const before = await derived();
    expect(before.receipts).toHaveLength(4); // 102 read and delivered, 101 read and delivered (implied)
    expect(before.sessions).toHaveLength(2);
    const answers = async () => ({
      sessions: (await get(app, '/users/carol/sessions?appId=app-one')).json(),
      receipts: (await get(app, '/messages/101/receipts?appId=app-one')).json(),
      latency: (
        await get(
          app,
          `/analytics/read-latency?appId=app-one&from=${new Date(T - DAY).toISOString()}&to=${new Date(T + DAY).toISOString()}`,
        )
      ).json(),
    });
    const answered = await answers();
    expect(await rawCounts()).toEqual({ events: bodies.length, connections: 3 });

    // 200 days on, everything received today is older than 90 days.
    const report = await applyRetention(pool, {
      olderThanMs: NINETY_DAYS,
      now: Date.now() + 200 * DAY,
    });
    const month = new Date().toISOString().slice(0, 7).replace('-', '_');
    expect(report.dropped.map((p) => p.name)).toContain(`webhook_events_${month}`);
    // The connection events of November 2026 sit in their month's partition or the default one.
    expect(report.deletedFromDefault.webhook_events).toBe(0);
    expect(await rawCounts()).toEqual({ events: 0, connections: 0 });
    expect(await derived()).toEqual(before);
    expect(await answers()).toEqual(answered);
  });

  it('keeps derived rows idempotent forever: a redelivery of a dropped event changes nothing', async () => {
    const app = await started();
    await postInOrder(app, bodies);
    const before = await derived();
    await applyRetention(pool, { olderThanMs: NINETY_DAYS, now: Date.now() + 200 * DAY });
    // Its raw twin is gone, so it is stored again (not a duplicate): derivation must not move anything.
    const again = await postInOrder(app, [...bodies].reverse());
    expect(again.map((r) => [r.statusCode, r.json<{ duplicate: boolean }>().duplicate])).toEqual(
      bodies.map(() => [200, false]),
    );
    const after = await derived();
    // The one thing a new raw event may bring: nothing; event ids keep the first (lowest) one.
    expect(after).toEqual(before);
  });

  it('still catches redeliveries within a month, and across the month boundary', async () => {
    const app = await started();
    const writer = app.get(IngestWriter);
    const body = afterMessage({ id: '900', sender: 'alice', receiver: 'bob', sentAt: T / 1000 });
    const text = JSON.stringify(body);
    const item = (receivedAt: number) => ({
      event: readCometChatEvent(JSON.parse(text)),
      bodyText: text,
      bodySha256: createHash('sha256').update(text).digest('hex'),
      receivedAt,
    });
    const lastSecondOfMonth = Date.UTC(2026, 11, 31, 23, 59, 50);
    const first = await writer.submit(item(lastSecondOfMonth));
    expect(first.duplicate).toBe(false);
    // 40 s later, the next year's first month: CometChat's retry.
    expect(await writer.submit(item(lastSecondOfMonth + 40_000))).toEqual({
      eventId: first.eventId,
      duplicate: true,
    });
    // Within one month, whenever.
    expect(await writer.submit(item(lastSecondOfMonth - 20 * DAY))).toEqual({
      eventId: first.eventId,
      duplicate: true,
    });
    expect(await rows(`SELECT id::text, received_month::text FROM webhook_events`)).toEqual([
      { id: first.eventId, received_month: '2026-12-01' },
    ]);
  });

  it('refuses while events older than the cutoff await derivation, and drops nothing', async () => {
    const app = await started({ DERIVE_ENABLED: 'false' });
    for (const body of bodies) {
      expect((await post(app, body)).statusCode).toBe(200);
    }
    await expect(
      applyRetention(pool, { olderThanMs: NINETY_DAYS, now: Date.now() + 200 * DAY }),
    ).rejects.toThrow(RetentionRefusedError);
    const { rows: n } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events`,
    );
    expect(n[0].n).toBe(bodies.length);
  });

  it('a dry run only reports', async () => {
    const app = await started();
    await postInOrder(app, bodies);
    const partitions = await listPartitions(pool);
    const report = await applyRetention(pool, {
      olderThanMs: NINETY_DAYS,
      now: Date.now() + 200 * DAY,
      dryRun: true,
    });
    expect(report.dropped.length).toBeGreaterThan(0);
    expect(await listPartitions(pool)).toEqual(partitions);
    expect((await rawCounts()).events).toBe(bodies.length);
  });

  it('keeps month partitions ahead; times outside them go to the default partition and age out', async () => {
    const app = await started();
    const months = (await listPartitions(pool)).map((p) => `${p.table}@${p.from.toISOString()}`);
    const now = new Date();
    for (let i = 0; i <= 2; i++) {
      const m = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1)).toISOString();
      expect(months).toContain(`webhook_events@${m}`);
      expect(months).toContain(`connection_events@${m}`);
    }
    const old = Date.UTC(2003, 4, 1);
    await post(
      app,
      currentConnection({
        uid: 'erin',
        action: 'connected',
        at: old,
        status: 'online',
        connectedAt: old,
      }),
    );
    // Counted per table rather than by tableoid, which Citus answers with a shard's name.
    expect(
      await rows(
        `SELECT (SELECT count(*)::int FROM connection_events WHERE uid = 'erin') AS everywhere,
                (SELECT count(*)::int FROM connection_events_default WHERE uid = 'erin') AS in_default`,
      ),
    ).toEqual([{ everywhere: 1, in_default: 1 }]);
    const report = await applyRetention(pool, { olderThanMs: 365 * DAY, now: Date.now() });
    expect(report.deletedFromDefault).toEqual({ webhook_events: 0, connection_events: 1 });
    expect(report.dropped).toEqual([]);
    expect(await rows(`SELECT uid FROM sessions WHERE uid = 'erin'`)).toEqual([{ uid: 'erin' }]);
  });

  it('a full rebuild past the retention horizon is refused; --since re-applies, --force rebuilds', async () => {
    const app = await started();
    await postInOrder(app, bodies);
    await applyRetention(pool, { olderThanMs: NINETY_DAYS, now: Date.now() + 200 * DAY });
    const before = await derived();
    await expect(requeueForRederive(pool)).rejects.toThrow(RebuildRefusedError);
    await requeueForRederive(pool, { since: Date.now() });
    await app.get(DerivationRunner).drain();
    expect(await derived()).toEqual(before);
    // --force: rebuilt from what is left, as asked: one message received since.
    await postInOrder(app, [afterMessage({ id: '103', sender: 'bob', receiver: 'alice' })]);
    await requeueForRederive(pool, { force: true });
    await app.get(DerivationRunner).drain();
    expect(await rows(`SELECT id FROM messages`)).toEqual([{ id: '103' }]);
    expect(await rows(`SELECT count(*)::int AS n FROM sessions`)).toEqual([{ n: 0 }]);
  });

  it('runs from the command line: npm run retention -- --older-than 90d --dry-run', async () => {
    const app = await started();
    await postInOrder(app, bodies);
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => printed.push(line));
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = testDatabaseUrl();
    try {
      expect(await retentionCli(['--older-than', 'ninety'])).toBe(2);
      const later = new Date(Date.now() + 200 * DAY).toISOString();
      expect(await retentionCli(['--older-than', '90d', '--dry-run', '--now', later])).toBe(0);
    } finally {
      process.env.DATABASE_URL = saved;
      log.mockRestore();
      error.mockRestore();
    }
    const month = new Date().toISOString().slice(0, 7).replace('-', '_');
    expect(
      printed.filter((l) => l.startsWith(`Would drop webhook_events_${month} (about `)),
    ).toHaveLength(1);
    expect(printed).toContain('Would delete 0 rows of webhook_events_default');
    expect((await rawCounts()).events).toBe(bodies.length);
  });

  it('reads ages as days or hours', () => {
    expect(parseAge('90d')).toBe(NINETY_DAYS);
    expect(parseAge('36h')).toBe(36 * 3_600_000);
    for (const bad of ['0d', '90', 'd', '-1d', '1.5d', '90 days']) {
      expect(parseAge(bad)).toBeNull();
    }
  });
});
