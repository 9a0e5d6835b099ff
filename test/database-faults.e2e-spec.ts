import { Client } from 'pg';
import { afterMessage, legacyConnection, legacyReceipt } from './factories';
import { resetDatabase, rows, startApp, testDatabaseUrl, withDb } from './setup/test-app';
import { post } from './setup/http';

/**
 * Real faults, injected into the test database: the app runs as a role of its own (not the
 * superuser that owns the tables, so privileges bind it), each fault is repaired afterwards.
 */
const ROLE = `faults_app_${process.pid}`;
const PASSWORD = 'faults-password';

const appUrl = (options?: string) => {
  const url = new URL(testDatabaseUrl());
  url.username = ROLE;
  url.password = PASSWORD;
  if (options) {
    url.searchParams.set('options', options);
  }
  return url.toString();
};

const sql = (text: string) => withDb((db) => db.query(text));

function expectUnavailable(res: Awaited<ReturnType<typeof post>>): void {
  expect(res.statusCode).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.json()).toEqual({
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'The database is unavailable; retry later.',
  });
}

async function expectNothingStored(): Promise<void> {
  expect(await rows(`SELECT id FROM rejected_events`)).toEqual([]);
  expect(await rows(`SELECT id FROM webhook_events`)).toEqual([]);
}

const receipt = legacyReceipt({
  messageId: 'm-1',
  kind: 'read',
  reader: 'bob',
  messageSender: 'alice',
  at: 1_700_000_100,
});
const message = afterMessage({ id: 'm-1', sender: 'alice', receiver: 'bob' });
const connection = legacyConnection({
  uid: 'carol',
  type: 'connected',
  at: 1_700_000_000_000,
  status: 'online',
  connection: { session: 's-1', connectedAt: 1_700_000_000_000 },
});

/**
 * Injects a fault, checks the body is answered 503 and nothing is kept, repairs the fault and
 * checks the very same body is then accepted. Each step has an app of its own: a pooled
 * connection keeps the session settings it started with.
 */
async function faultThenRepair(fault: {
  inject: string;
  repair: string;
  body: object;
  options?: string;
}): Promise<void> {
  await sql(fault.inject);
  let app = await startApp({}, appUrl(fault.options));
  try {
    expectUnavailable(await post(app, fault.body));
  } finally {
    await app.close();
    await sql(fault.repair);
  }
  await expectNothingStored();
  app = await startApp({}, appUrl());
  try {
    const again = await post(app, fault.body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: false });
  } finally {
    await app.close();
  }
}

describe('database faults answer 503, never 400', () => {
  beforeAll(() =>
    sql(`
      CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
      GRANT USAGE ON SCHEMA public TO ${ROLE};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLE};
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${ROLE};`),
  );
  afterAll(() => sql(`DROP OWNED BY ${ROLE}; DROP ROLE ${ROLE};`));
  beforeEach(() => resetDatabase());

  it('permission denied on the raw log (42501)', () =>
    faultThenRepair({
      inject: `REVOKE INSERT ON derivation_queue FROM ${ROLE}`,
      repair: `GRANT INSERT ON derivation_queue TO ${ROLE}`,
      body: receipt,
    }));

  it('a table of the raw log is missing (42P01)', () =>
    faultThenRepair({
      inject: `ALTER TABLE derivation_queue RENAME TO derivation_queue_moved`,
      repair: `ALTER TABLE derivation_queue_moved RENAME TO derivation_queue`,
      body: connection,
    }));

  // Derived state is written after the ack: there a fault holds the events in the queue (not
  // failed, not lost) until it is repaired, then they are derived.
  it.each([
    [
      'permission denied on a derived table (42501)',
      `REVOKE INSERT ON receipts FROM ${ROLE}`,
      `GRANT INSERT ON receipts TO ${ROLE}`,
      receipt,
      `SELECT message_id, reader, kind FROM receipts WHERE NOT implied`,
      [{ message_id: 'm-1', reader: 'bob', kind: 'read' }],
    ],
    [
      'permission denied on the latency histogram, which derivation keeps (42501)',
      `REVOKE INSERT ON latency_histogram FROM ${ROLE}`,
      `GRANT INSERT ON latency_histogram TO ${ROLE}`,
      receipt,
      `SELECT message_id, reader, kind FROM receipts WHERE NOT implied`,
      [{ message_id: 'm-1', reader: 'bob', kind: 'read' }],
    ],
    [
      'a derived table is missing (42P01)',
      `ALTER TABLE sessions RENAME TO sessions_moved`,
      `ALTER TABLE sessions_moved RENAME TO sessions`,
      connection,
      `SELECT uid, session_key FROM sessions`,
      [{ uid: 'carol', session_key: 's-1' }],
    ],
  ])(
    '%s: acked, kept queued, derived once repaired',
    async (_name, inject, repair, body, query, expected) => {
      await sql(inject);
      const app = await startApp({ DERIVE_POLL_MS: '20' }, appUrl());
      try {
        try {
          const res = await post(app, body);
          expect(res.statusCode).toBe(200);
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(
            await withDb(
              async (db) =>
                (await db.query(`SELECT count(*)::int AS n FROM derivation_queue`)).rows,
            ),
          ).toEqual([{ n: 1 }]);
          expect(
            await withDb(
              async (db) =>
                (await db.query(`SELECT count(*)::int AS n FROM derivation_failures`)).rows,
            ),
          ).toEqual([{ n: 0 }]);
        } finally {
          await sql(repair);
        }
        expect(await rows(query)).toEqual(expected);
      } finally {
        await app.close();
      }
    },
  );

  it('a read-only transaction (25006), for every event of a batch', async () => {
    await faultThenRepair({
      inject: `ALTER ROLE ${ROLE} SET default_transaction_read_only = on`,
      repair: `ALTER ROLE ${ROLE} RESET default_transaction_read_only`,
      body: message,
    });
    await resetDatabase();
    await sql(`ALTER ROLE ${ROLE} SET default_transaction_read_only = on`);
    const app = await startApp({ INGEST_CONCURRENCY: '1' }, appUrl());
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          post(app, afterMessage({ id: `b${i}`, sender: 'a', receiver: 'b' })),
        ),
      );
      answers.forEach(expectUnavailable);
    } finally {
      await app.close();
      await sql(`ALTER ROLE ${ROLE} RESET default_transaction_read_only`);
    }
    await expectNothingStored();
  });

  it('a statement timeout (57014), then an administrator ending the connection (57P01)', async () => {
    const locker = new Client({ connectionString: testDatabaseUrl() });
    await locker.connect();
    const app = await startApp({}, appUrl('-c statement_timeout=300'));
    try {
      await locker.query(`BEGIN; LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE`);
      expectUnavailable(await post(app, message));

      // Waiting on the lock again, without a timeout this time: the backend is terminated. Every
      // backend of the service waiting on a lock is, until the request is answered: the service's
      // own background work (partitions at start-up, derivation) may wait on the same lock, and
      // ending only those would leave the request waiting for ever.
      const app2 = await startApp({}, appUrl());
      try {
        let answered = false;
        const pending = post(app2, message).finally(() => {
          answered = true;
        });
        await waitFor(async () => {
          await rows(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE usename = $1 AND wait_event_type = 'Lock'`,
            [ROLE],
          );
          return answered;
        });
        expectUnavailable(await pending);
      } finally {
        // First the lock, so that whatever still waits on it ends and the service can close.
        await locker.query('ROLLBACK');
        await app2.close();
      }
      await expectNothingStored();
      expect((await post(app, message)).statusCode).toBe(200);
    } finally {
      await locker.end();
      await app.close();
    }
  });

  it('keeping a rejected body fails: 503 and nothing kept; once repaired, 400 and kept', async () => {
    await sql(`REVOKE INSERT ON rejected_events FROM ${ROLE}`);
    let app = await startApp({}, appUrl());
    try {
      expectUnavailable(await post(app, '{"trigger": '));
    } finally {
      await app.close();
      await sql(`GRANT INSERT ON rejected_events TO ${ROLE}`);
    }
    await expectNothingStored();
    app = await startApp({}, appUrl());
    try {
      const res = await post(app, '{"trigger": ');
      expect(res.statusCode).toBe(400);
      expect(await rows(`SELECT field FROM rejected_events`)).toEqual([{ field: 'body' }]);
    } finally {
      await app.close();
    }
  });

  it('queries answer 503 with Retry-After, without database text, when a table is unreadable', async () => {
    await sql(`REVOKE SELECT ON presence, webhook_events FROM ${ROLE}`);
    const app = await startApp({}, appUrl());
    try {
      for (const url of ['/users/carol/presence', '/events']) {
        const res = await app.inject({ method: 'GET', url });
        expectUnavailable(res);
        expect(res.body).not.toMatch(/permission|denied|presence|webhook_events/);
      }
    } finally {
      await app.close();
      await sql(`GRANT SELECT ON presence, webhook_events TO ${ROLE}`);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) {
      throw new Error('timed out waiting');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
