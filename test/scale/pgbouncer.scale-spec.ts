import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client, PoolClient } from 'pg';
import { SimEvent, TrafficModel } from '../../scripts/traffic-model';
import { preparing, UnnamedStatementsClient } from '../../src/db/prepared';
import { resetDatabase, startApp, testDatabaseUrl, withDb } from '../setup/test-app';
import { PgBouncer, startPgBouncer } from './pgbouncer';

/**
 * DB_PREPARED_STATEMENTS=false behind a real PgBouncer 1.18 in transaction pool mode (which hands
 * each transaction to any server connection and, in that version, knows nothing of prepared
 * statements): both webhook formats ingested and derived, every kind of query answered right with
 * many requests at once; and the same with named statements on does fail, so the switch matters.
 */
const HOUR = 3_600_000;
const APP_ID = 'bouncer';
const START = Date.UTC(2026, 3, 7, 6);
const WINDOW = 'from=2026-04-07T00:00:00Z&to=2026-04-08T00:00:00Z';
/** Client connections per server connection: PgBouncer multiplexes 8 onto 2. */
const APP_POOL = '8';
const SERVER_POOL = 2;

function traffic(): SimEvent[] {
  return new TrafficModel({
    appId: APP_ID,
    users: 8,
    start: START,
    liveFrom: START + 3 * HOUR,
    end: START + 3 * HOUR + 60_000,
    rate: 5,
    seed: 21,
  }).rest();
}

const getAll = (app: NestFastifyApplication, urls: string[]) =>
  Promise.all(urls.map((url) => app.inject({ method: 'GET', url })));

describe('behind PgBouncer in transaction mode (DB_PREPARED_STATEMENTS=false)', () => {
  let bouncer: PgBouncer;
  /** The same service on a direct connection: what every answer must equal. */
  let direct: NestFastifyApplication;
  const events = traffic();
  const uids = [...new Set(events.map((e) => /"(sim-[a-z]+)"/.exec(e.body)?.[1]))].filter(
    (uid): uid is string => uid !== undefined,
  );

  beforeAll(async () => {
    await resetDatabase();
    bouncer = await startPgBouncer(testDatabaseUrl(), {
      poolSize: SERVER_POOL,
      aliases: { one_server: 1 },
    });
    direct = await startApp({ DERIVE_ENABLED: 'false' });
  });

  afterAll(async () => {
    await direct?.close();
    await bouncer?.stop();
  });

  it('ingests both formats, derives, and answers many queries at once, all right', async () => {
    expect(new Set(events.map((e) => e.format))).toEqual(new Set(['legacy', 'current']));
    const app = await startApp(
      { DB_PREPARED_STATEMENTS: 'false', DB_POOL_SIZE: APP_POOL },
      bouncer.url(),
    );
    try {
      // Eight webhooks in flight at a time, as CometChat's concurrent deliveries come.
      for (let i = 0; i < events.length; i += 8) {
        const batch = events.slice(i, i + 8);
        const answers = await Promise.all(
          batch.map((e) =>
            app.inject({
              method: 'POST',
              url: '/webhooks/cometchat',
              headers: { 'content-type': e.contentType },
              payload: e.body,
            }),
          ),
        );
        answers.forEach((res, j) =>
          expect({ kind: batch[j].kind, status: res.statusCode }).toEqual({
            kind: batch[j].kind,
            status: batch[j].kind === 'broken' ? 400 : 200,
          }),
        );
      }
      const [stored] = await withDb(
        async (db) =>
          (
            await db.query<{ events: number; rejected: number; failed: number }>(
              `SELECT (SELECT count(*)::int FROM webhook_events) AS events,
                      (SELECT count(*)::int FROM rejected_events) AS rejected,
                      (SELECT count(*)::int FROM derivation_failures) AS failed`,
            )
          ).rows,
      );
      expect(stored).toEqual({
        events: events.filter((e) => e.kind === 'event').length,
        rejected: events.filter((e) => e.kind === 'broken').length,
        failed: 0,
      });

      const sent = (
        await app.inject({
          method: 'GET',
          url: `/events?appId=${APP_ID}&trigger=message_sent&limit=6`,
        })
      ).json<{ items: { body: { data: { message: { id: string } } } }[] }>();
      const messageIds = sent.items.map((item) => item.body.data.message.id);
      expect(messageIds.length).toBeGreaterThan(0);
      const urls = [
        ...uids.flatMap((uid) => [
          `/users/${uid}/presence?appId=${APP_ID}`,
          `/users/${uid}/sessions?appId=${APP_ID}&${WINDOW}`,
        ]),
        ...messageIds.map((id) => `/messages/${id}/receipts?appId=${APP_ID}`),
        `/presence/online?appId=${APP_ID}`,
        `/analytics/read-latency?appId=${APP_ID}&${WINDOW}`,
        `/analytics/delivery-latency?appId=${APP_ID}&${WINDOW}&interval=hour`,
        `/analytics/concurrency?appId=${APP_ID}&${WINDOW}&interval=hour`,
      ];
      // Each query three times over, all at once.
      const answers = await getAll(app, [...urls, ...urls, ...urls]);
      const expected = await getAll(direct, urls);
      answers.forEach((res, i) => {
        const want = expected[i % urls.length];
        expect({ url: urls[i % urls.length], status: res.statusCode, body: res.json() }).toEqual({
          url: urls[i % urls.length],
          status: 200,
          body: want.json(),
        });
      });
      expect(expected.every((res) => res.statusCode === 200)).toBe(true);
    } finally {
      await app.close();
    }
  });

  describe('with named prepared statements (the default)', () => {
    const SQL = 'SELECT $1::int AS one';
    const connect = async (make: (url: string) => Client) => {
      const clients = [make(bouncer.url('one_server')), make(bouncer.url('one_server'))];
      await Promise.all(clients.map((c) => c.connect()));
      return clients;
    };
    const close = (clients: Client[]) => Promise.all(clients.map((c) => c.end()));

    it('fails: a second client finds the first one’s statement on their shared server connection', async () => {
      const named = await connect((url) => new Client({ connectionString: url }));
      try {
        const [first, second] = named.map((c) => preparing(c as PoolClient));
        await expect(first.query(SQL, [1])).resolves.toMatchObject({ rows: [{ one: 1 }] });
        // 42P05: prepared statement "s…" already exists.
        await expect(second.query(SQL, [1])).rejects.toMatchObject({ code: '42P05' });
      } finally {
        await close(named);
      }
      const unnamed = await connect(
        (url) => new UnnamedStatementsClient({ connectionString: url }),
      );
      try {
        for (const client of unnamed) {
          await expect(preparing(client as PoolClient).query(SQL, [1])).resolves.toMatchObject({
            rows: [{ one: 1 }],
          });
        }
      } finally {
        await close(unnamed);
      }
    });

    it('fails the service’s concurrent queries, which the switch makes pass', async () => {
      const urls = Array.from({ length: 12 }, (_, i) => {
        const uid = uids[i % uids.length];
        return `/users/${uid}/presence?appId=${APP_ID}`;
      });
      const statuses = async (env: Record<string, string>) => {
        const app = await startApp({ DB_POOL_SIZE: '4', ...env }, bouncer.url('one_server'));
        try {
          return (await getAll(app, urls)).map((res) => res.statusCode);
        } finally {
          await app.close();
        }
      };
      // Here 9 of the 12 answered 503 (42P05: prepared statement "…" already exists).
      expect((await statuses({})).some((status) => status >= 500)).toBe(true);
      const expected = (await getAll(direct, urls)).map((res) => res.statusCode);
      expect(expected.every((status) => status < 500)).toBe(true);
      expect(await statuses({ DB_PREPARED_STATEMENTS: 'false' })).toEqual(expected);
    });
  });
});
