import { afterMessage } from './factories';
import { resetDatabase, rows, startApp, withDb } from './setup/test-app';
import { post } from './setup/http';

const storedMessageIds = async () =>
  (await rows<{ id: string }>(`SELECT id FROM messages ORDER BY id`)).map((r) => r.id);

describe('group commit', () => {
  beforeEach(() => resetDatabase());

  it('commits many concurrent requests in shared batches and acks each only once it is stored', async () => {
    const app = await startApp({ INGEST_CONCURRENCY: '1', INGEST_MAX_BATCH: '50' });
    try {
      const ids = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, '0')}`);
      const answers = await Promise.all(
        ids.map((id) => post(app, afterMessage({ id, sender: 'a', receiver: 'b' }))),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(ids.map(() => 200));
      expect(await storedMessageIds()).toEqual(ids);
      // Fewer transactions than requests: the raw rows share insertion timestamps per batch.
      const [{ batches }] = await rows<{ batches: string }>(
        `SELECT count(DISTINCT xmin::text) AS batches FROM webhook_events`,
      );
      expect(Number(batches)).toBeLessThan(ids.length);
    } finally {
      await app.close();
    }
  });

  it('keeps one event the database refuses from failing the others in its batch', async () => {
    // Something no validation can foresee: here a check refusing one app's rows (SQLSTATE
    // 23514, integrity constraint: the event's own values).
    // One statement per query: Citus (npm run test:scale) propagates DDL one command at a time.
    await withDb(async (db) => {
      await db.query(`
        CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.app_id = 'poison' THEN
          RAISE EXCEPTION 'poisoned row' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$`);
      await db.query(
        `CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
      );
    });
    const app = await startApp({ INGEST_CONCURRENCY: '1' });
    try {
      const good = Array.from({ length: 30 }, (_, i) =>
        afterMessage({ id: `g${i}`, sender: 'a', receiver: 'b' }),
      );
      const poison = afterMessage({ appId: 'poison', id: 'p1', sender: 'a', receiver: 'b' });
      const answers = await Promise.all(
        [...good.slice(0, 15), poison, ...good.slice(15)].map((b) => post(app, b)),
      );
      expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(30);
      const refused = answers[15];
      expect(refused.statusCode).toBe(400);
      expect(refused.json().message).toMatch(/^body could not be stored: /);
      // PostgreSQL's words stay in the log.
      expect(refused.body).not.toMatch(/poison|check_violation|23514/);
      expect(await storedMessageIds()).toHaveLength(30);
      expect(await rows(`SELECT app_id, trigger FROM rejected_events`)).toEqual([
        { app_id: 'poison', trigger: 'after_message' },
      ]);
    } finally {
      await app.close();
      await withDb(async (db) => {
        await db.query(`DROP TRIGGER refuse_poison ON webhook_events`);
        await db.query(`DROP FUNCTION refuse_poison()`);
      });
    }
  });

  it('answers 503 at once when the queue is full, and stores everything it acked', async () => {
    const app = await startApp({
      INGEST_CONCURRENCY: '1',
      INGEST_MAX_BATCH: '1',
      INGEST_QUEUE_LIMIT: '2',
    });
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `q${i}`);
      const answers = await Promise.all(
        ids.map((id) => post(app, afterMessage({ id, sender: 'a', receiver: 'b' }))),
      );
      const acked = ids.filter((_, i) => answers[i].statusCode === 200);
      const refused = answers.filter((a) => a.statusCode === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(acked.length + refused.length).toBe(ids.length);
      expect(refused[0].json().message).toBe('The database is unavailable; retry later.');
      expect(await storedMessageIds()).toEqual([...acked].sort());
    } finally {
      await app.close();
    }
  });

  it('answers and commits every accepted request when the app closes mid-load', async () => {
    const app = await startApp({ INGEST_CONCURRENCY: '1', INGEST_MAX_BATCH: '5' });
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/webhooks/cometchat`;
    const ids = Array.from({ length: 60 }, (_, i) => `s${i}`);
    const inFlight = ids.map((id) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(afterMessage({ id, sender: 'a', receiver: 'b' })),
      }).then(
        (r) => r.status,
        () => 'refused',
      ),
    );
    // Close as soon as the first answer is out, with the rest in flight.
    await Promise.race(inFlight);
    await app.close();
    const answers = await Promise.all(inFlight);
    const acked = ids.filter((_, i) => answers[i] === 200);
    expect(acked.length).toBeGreaterThan(0);
    // What was accepted is answered 200 and committed; later requests are turned away with 503
    // or never accepted (the sender retries both); nothing is cut off with an error.
    expect(answers.filter((a) => a !== 200 && a !== 503 && a !== 'refused')).toEqual([]);
    const logged = await withDb((db) =>
      db.query<{ id: string }>(`SELECT body->'data'->>'id' AS id FROM webhook_events ORDER BY 1`),
    );
    expect(logged.rows.map((r) => r.id)).toEqual([...acked].sort());
    // What was acked and not yet derived is derived by the next instance to start.
    const next = await startApp();
    try {
      expect(await storedMessageIds()).toEqual([...acked].sort());
    } finally {
      await next.close();
    }
  });
});
