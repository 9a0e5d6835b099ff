import { Client } from 'pg';
import { SimEvent } from '../scripts/traffic-model';
import { DerivationRunner } from '../src/ingest/derivation-runner.service';
import { requeueForRederive } from '../src/ingest/rederive';
import { afterMessage, currentReceipt, legacyConnection } from './factories';
import { fillPath, isPublicRoute, listRoutes } from './setup/routes';
import {
  resetDatabase,
  rows,
  startApp,
  testDatabaseUrl,
  waitForDerivation,
  withDb,
} from './setup/test-app';
import { post } from './setup/http';
import { shuffled, simulatedTraffic } from './setup/traffic';

const HOUR = 3_600_000;

/** The raw state of a table, no waiting for derivation. */
const now = (sql: string) => withDb(async (db) => (await db.query(sql)).rows);

/** Every derived table, in a fixed order, for comparing two derivations of one log. */
async function derivedState(): Promise<Record<string, unknown[]>> {
  return withDb(async (db) => {
    await waitForDerivation(db);
    const tables: Record<string, string> = {
      messages: `SELECT * FROM messages ORDER BY app_id, id`,
      receipts: `SELECT * FROM receipts ORDER BY app_id, message_id, reader, kind`,
      group_receipts: `SELECT * FROM group_receipts ORDER BY app_id, message_id, kind`,
      connection_events: `SELECT app_id, uid, action, at, status, session_key, device_id, platform,
                                 connected_at, open_sessions, last_active_at, event_id
                            FROM connection_events ORDER BY app_id, uid, session_key, action, at`,
      sessions: `SELECT * FROM sessions ORDER BY app_id, uid, session_key`,
      presence: `SELECT * FROM presence ORDER BY app_id, uid`,
      latency_histogram: `SELECT * FROM latency_histogram WHERE count <> 0
                           ORDER BY app_id, kind, span_hours, start, receiver_type, implied, bin`,
      group_member_events: `SELECT * FROM group_member_events ORDER BY app_id, guid, uid, at, change`,
      group_memberships: `SELECT app_id, guid, uid, joined_at::text, left_at FROM group_memberships
                           ORDER BY app_id, guid, uid, joined_at`,
      user_conversations: `SELECT * FROM user_conversations ORDER BY app_id, uid, conversation_id`,
      derivation_failures: `SELECT app_id, event_id FROM derivation_failures ORDER BY 1, 2`,
      activity_days: `SELECT * FROM activity_days ORDER BY app_id, uid, kind, platform, day`,
      activity_counts: `SELECT * FROM activity_counts ORDER BY app_id, kind, platform, day, prev_day`,
      activity_horizon: `SELECT * FROM activity_horizon ORDER BY app_id`,
    };
    const state: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(tables)) {
      state[name] = (await db.query(sql)).rows;
    }
    return state;
  });
}

describe('ingest as a log', () => {
  beforeEach(() => resetDatabase());

  describe('the ack', () => {
    it('commits the raw event and its queue row, and nothing derived', async () => {
      const app = await startApp({ DERIVE_ENABLED: 'false' });
      try {
        const res = await post(app, afterMessage({ id: '1', sender: 'alice', receiver: 'bob' }));
        expect(res.statusCode).toBe(200);
        const eventId = res.json<{ eventId: string }>().eventId;
        expect(await now(`SELECT app_id, event_id::text FROM derivation_queue`)).toEqual([
          { app_id: 'app-one', event_id: eventId },
        ]);
        expect(await now(`SELECT id FROM messages`)).toEqual([]);

        expect(await app.get(DerivationRunner).drain()).toBe(1);
        expect(await now(`SELECT id, sender FROM messages`)).toEqual([
          { id: '1', sender: 'alice' },
        ]);
        expect(await now(`SELECT * FROM derivation_queue`)).toEqual([]);
      } finally {
        await app.close();
      }
    });
  });

  describe('the claim', () => {
    it('never skips an event whose id commits after a higher one was derived', async () => {
      const app = await startApp({ DERIVE_ENABLED: 'false' });
      const late = new Client({ connectionString: testDatabaseUrl() });
      await late.connect();
      try {
        // A transaction takes a lower id and is slow to commit...
        await late.query('BEGIN');
        const { rows: taken } = await late.query<{ id: string }>(
          `INSERT INTO webhook_events (app_id, trigger, uid, event_at, body_sha256, natural_key, body)
           VALUES ('app-one', 'after_message', 'alice', now(), '\\x01', '["message","late"]', $1::jsonb)
           RETURNING id::text`,
          [JSON.stringify(afterMessage({ id: 'late', sender: 'alice', receiver: 'bob' }))],
        );
        await late.query(
          `INSERT INTO derivation_queue (app_id, event_id) VALUES ('app-one', $1::bigint)`,
          [taken[0].id],
        );
        // ...while a higher id commits and is derived.
        const res = await post(
          app,
          afterMessage({ id: 'early', sender: 'carol', receiver: 'bob' }),
        );
        expect(BigInt(res.json<{ eventId: string }>().eventId)).toBeGreaterThan(
          BigInt(taken[0].id),
        );
        const runner = app.get(DerivationRunner);
        expect(await runner.drain()).toBe(1);
        await late.query('COMMIT');
        expect(await runner.drain()).toBe(1);
        expect(await now(`SELECT id FROM messages ORDER BY id`)).toEqual([
          { id: 'early' },
          { id: 'late' },
        ]);
      } finally {
        await late.end();
        await app.close();
      }
    });

    it('gives each event to exactly one of several instances deriving at once', async () => {
      const apps = await Promise.all(
        [1, 2, 3].map(() => startApp({ DERIVE_ENABLED: 'false', DERIVE_BATCH: '7' })),
      );
      try {
        const bodies = Array.from({ length: 30 }, (_, i) => [
          afterMessage({ id: `m${i}`, sender: 'alice', receiver: 'bob' }),
          currentReceipt({
            messageSender: 'alice',
            messageId: `m${i}`,
            reader: 'bob',
            kind: 'read',
            at: 1_800_000_100 + i,
          }),
        ]).flat();
        for (const body of bodies) {
          expect((await post(apps[0], body)).statusCode).toBe(200);
        }
        const derived = await Promise.all(apps.map((a) => a.get(DerivationRunner).drain()));
        expect(derived.reduce((a, b) => a + b, 0)).toBe(bodies.length);
        expect(derived.filter((n) => n > 0).length).toBeGreaterThan(1);
        const [counts] = await now(
          `SELECT (SELECT count(*)::int FROM messages) AS messages,
                  (SELECT count(*)::int FROM receipts WHERE NOT implied AND kind = 'read') AS reads,
                  (SELECT sum(count)::int FROM latency_histogram WHERE span_hours = 1 AND kind = 'read') AS histogram`,
        );
        expect(counts).toEqual({ messages: 30, reads: 30, histogram: 30 });
      } finally {
        await Promise.all(apps.map((a) => a.close()));
      }
    });
  });

  describe('read-your-writes', () => {
    it('waits for derivation by another instance, unless told not to wait', async () => {
      const front = await startApp({ DERIVE_ENABLED: 'false' });
      try {
        expect(
          (await post(front, afterMessage({ id: '7', sender: 'alice', receiver: 'bob' })))
            .statusCode,
        ).toBe(200);
        const skipped = await front.inject({
          method: 'GET',
          url: '/messages/7/receipts',
          headers: { prefer: 'wait=0' },
        });
        expect(skipped.statusCode).toBe(404);
        expect(skipped.headers['x-derivation']).toBe('skipped');

        const worker = await startApp({ DERIVE_POLL_MS: '20' });
        try {
          const read = await front.inject({ method: 'GET', url: '/messages/7/receipts' });
          expect(read.statusCode).toBe(200);
          expect(read.headers['x-derivation']).toBe('waited');
          expect(read.json()).toMatchObject({ messageId: '7', sender: 'alice' });
          const again = await front.inject({ method: 'GET', url: '/messages/7/receipts' });
          expect(again.headers['x-derivation']).toBe('fresh');
        } finally {
          await worker.close();
        }
      } finally {
        await front.close();
      }
    });

    it('covers every query route that answers from derived state', async () => {
      const app = await startApp();
      try {
        // The raw log's routes (/events…, /apps, /export/events) read no derived state and wait for none.
        const queries = listRoutes(app).filter(
          (r) =>
            r.method === 'GET' &&
            !isPublicRoute(r) &&
            !r.url.startsWith('/events') &&
            r.url !== '/apps' &&
            r.url !== '/export/events',
        );
        expect(queries.length).toBeGreaterThanOrEqual(9);
        for (const route of queries) {
          const res = await app.inject({ method: 'GET', url: fillPath(route.url) });
          expect({ url: route.url, header: res.headers['x-derivation'] }).toEqual({
            url: route.url,
            header: 'fresh',
          });
        }
      } finally {
        await app.close();
      }
    });

    it('answers from what is derived once the wait runs out, and says so', async () => {
      const app = await startApp({ DERIVE_ENABLED: 'false', READ_YOUR_WRITES_TIMEOUT_MS: '150' });
      try {
        await post(app, afterMessage({ id: '8', sender: 'alice', receiver: 'bob' }));
        const res = await app.inject({ method: 'GET', url: '/users/alice/presence' });
        expect(res.headers['x-derivation']).toBe('timeout');
        // Waiting is per app: another app's backlog does not hold this one's queries.
        const other = await app.inject({
          method: 'GET',
          url: '/users/alice/presence?appId=app-two',
        });
        expect(other.headers['x-derivation']).toBe('fresh');
      } finally {
        await app.close();
      }
    });
  });

  describe('faults', () => {
    // One statement per query: Citus (npm run test:scale) propagates DDL one command at a time.
    afterEach(() =>
      withDb(async (db) => {
        await db.query(`DROP TRIGGER IF EXISTS refuse_bad ON messages`);
        await db.query(`DROP FUNCTION IF EXISTS refuse_bad()`);
        await db.query(`ALTER TABLE IF EXISTS sessions_away RENAME TO sessions`);
      }),
    );

    it('keeps one event whose derivation the database refuses from holding up the others', async () => {
      await withDb(async (db) => {
        await db.query(`
          CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.id = 'bad' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END IF; RETURN NEW; END $$`);
        await db.query(
          `CREATE TRIGGER refuse_bad BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_bad()`,
        );
      });
      const app = await startApp({ DERIVE_ENABLED: 'false' });
      try {
        for (const id of ['a', 'bad', 'c']) {
          expect(
            (await post(app, afterMessage({ id, sender: 'x', receiver: 'y' }))).statusCode,
          ).toBe(200);
        }
        expect(await app.get(DerivationRunner).drain()).toBe(3);
        expect(await now(`SELECT id FROM messages ORDER BY id`)).toEqual([
          { id: 'a' },
          { id: 'c' },
        ]);
        expect(await now(`SELECT error FROM derivation_failures`)).toEqual([{ error: 'refused' }]);
        const health = await app.inject({ method: 'GET', url: '/health' });
        expect(health.json().info.derivation).toMatchObject({ backlog: 0, failed: 1 });
      } finally {
        await app.close();
      }
    });

    it('keeps events queued while the database cannot take them, and derives them after', async () => {
      const app = await startApp({ DERIVE_POLL_MS: '20' });
      try {
        await withDb((db) => db.query(`ALTER TABLE sessions RENAME TO sessions_away`));
        const res = await post(
          app,
          legacyConnection({
            uid: 'dora',
            type: 'connected',
            at: 1_800_000_000_000,
            status: 'online',
            connection: { session: 's1', connectedAt: 1_800_000_000_000 },
          }),
        );
        expect(res.statusCode).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await now(`SELECT count(*)::int AS n FROM derivation_queue`)).toEqual([{ n: 1 }]);
        expect(await now(`SELECT count(*)::int AS n FROM derivation_failures`)).toEqual([{ n: 0 }]);
        const metrics = await app.inject({ method: 'GET', url: '/metrics' });
        expect(metrics.body).toContain('derivation_status{measure="backlog"} 1');

        await withDb((db) => db.query(`ALTER TABLE sessions_away RENAME TO sessions`));
        expect(await rows(`SELECT uid, session_key FROM sessions`)).toEqual([
          { uid: 'dora', session_key: 's1' },
        ]);
      } finally {
        await app.close();
      }
    });
  });

  describe('npm run rederive', () => {
    const start = Date.UTC(2026, 10, 25, 6);
    const traffic = (seed: number): SimEvent[] =>
      simulatedTraffic({
        appId: 'sim',
        users: 12,
        start,
        liveFrom: start + 6 * HOUR,
        end: start + 6 * HOUR + 2 * 60_000,
        rate: 5,
        seed,
      });

    it.each([3, 11])(
      'rebuilds from the log exactly what live derivation built (seed %i, shuffled, with retries)',
      async (seed) => {
        const events = shuffled(traffic(seed), seed);
        expect(events.some((e) => e.kind === 'retry')).toBe(true);
        const app = await startApp({ DERIVE_BATCH: '37', DERIVE_POLL_MS: '10' });
        try {
          for (const e of events) {
            const res = await post(app, e.body, { 'content-type': e.contentType });
            expect([200, 400]).toContain(res.statusCode);
          }
          const live = await derivedState();
          expect(live.messages.length).toBeGreaterThan(10);
          expect(live.receipts.length).toBeGreaterThan(10);
          expect(live.sessions.length).toBeGreaterThan(5);
          expect(live.group_memberships.length).toBeGreaterThan(2);
          expect(live.user_conversations.length).toBeGreaterThan(10);

          const pool = app.get((await import('pg')).Pool);
          const queued = await requeueForRederive(pool);
          expect([...queued.keys()]).toEqual(['sim']);
          // Every raw event of the app is queued again (the loop may already be deriving them).
          const [{ n: logged }] = await now(`SELECT count(*)::int AS n FROM webhook_events`);
          expect(queued.get('sim')).toBe(logged);
          await app.get(DerivationRunner).drain();
          expect(await derivedState()).toEqual(live);

          // Batches of any size give the same state: here three events at a time.
          const small = await startApp({ DERIVE_ENABLED: 'false', DERIVE_BATCH: '3' });
          try {
            await requeueForRederive(pool, { appId: 'sim' });
            await small.get(DerivationRunner).drain();
            expect(await derivedState()).toEqual(live);
          } finally {
            await small.close();
          }

          // Re-applying part of the log changes nothing either.
          await requeueForRederive(pool, { appId: 'sim', since: start + 3 * HOUR });
          expect(await derivedState()).toEqual(live);
        } finally {
          await app.close();
        }
      },
      120_000,
    );
  });
});
