import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { afterMessage } from './factories';
import { resetDatabase, rows, startApp, testDatabaseUrl, withDb } from './setup/test-app';
import { ROOT } from './setup/test-database';
import { post } from './setup/http';

const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');
const MIGRATIONS = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('health', () => {
  describe('on the migrated test database', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await startApp({ API_KEY: 'query-key-0123456789' });
      await resetDatabase();
    });
    afterAll(() => app?.close());

    it('is ready: database up, every migration applied, room in the ingest queue', async () => {
      const res = await app.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toContain('no-cache');
      expect(res.json()).toEqual({
        status: 'ok',
        info: {
          database: { status: 'up' },
          migrations: { status: 'up', applied: MIGRATIONS.length },
          ingestQueue: { status: 'up', depth: 0, limit: 10000 },
          derivation: {
            status: 'up',
            backlog: 0,
            lagMs: 0,
            failed: 0,
            degraded: false,
            degradedAfterMs: 10000,
          },
        },
        error: {},
        details: expect.any(Object),
      });
    });

    it('is alive', async () => {
      const res = await app.inject({ method: 'GET', url: '/health/live' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'ok' });
    });
  });

  describe('with migrations missing or unfinished', () => {
    const name = `presence_health_${process.pid}`;
    let app: NestFastifyApplication;
    let db: Client;

    beforeAll(async () => {
      await withDb(async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.query(`CREATE DATABASE "${name}"`);
      });
      const url = new URL(testDatabaseUrl());
      url.pathname = `/${name}`;
      db = new Client({ connectionString: url.toString() });
      await db.connect();
      // Only the derivation tables exist: derivation is readable, migrations are the question.
      await db.query(
        readFileSync(
          path.join(MIGRATIONS_DIR, '20261203120000_derivation_queue', 'migration.sql'),
          'utf8',
        ),
      );
      app = await startApp({}, url.toString());
    });
    afterAll(async () => {
      await app?.close();
      await db?.end();
      await withDb((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    });

    type Checks = Record<string, Record<string, unknown>>;
    const health = async () => {
      const res = await app.inject({ method: 'GET', url: '/health' });
      return {
        status: res.statusCode,
        body: res.json<{ status: string; info: Checks; error: Checks }>(),
      };
    };

    it('is not ready on a database that was never migrated', async () => {
      const { status, body } = await health();
      expect(status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.info.database).toEqual({ status: 'up' });
      expect(body.error.migrations).toEqual({
        status: 'down',
        applied: 0,
        pending: MIGRATIONS,
        unfinished: [],
      });
    });

    it('compares prisma/migrations with what _prisma_migrations says was applied and finished', async () => {
      // The table as `prisma migrate deploy` keeps it; the last migration started but not finished.
      await db.query(`CREATE TABLE _prisma_migrations (
        id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
        migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
        started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
      const last = MIGRATIONS.at(-1)!;
      for (const [i, migration] of MIGRATIONS.entries()) {
        await db.query(
          `INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at)
           VALUES ($1, 'x', $2::text, CASE WHEN $2::text = $3::text THEN NULL ELSE now() END)`,
          [`m${i}`, migration, last],
        );
      }
      let { status, body } = await health();
      expect(status).toBe(503);
      expect(body.error.migrations).toMatchObject({ pending: [last], unfinished: [last] });

      // A failed attempt that was rolled back and then applied again counts as applied.
      await db.query(
        `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1`,
        [last],
      );
      await db.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at)
         VALUES ('again', 'x', $1, now())`,
        [last],
      );
      ({ status, body } = await health());
      expect(status).toBe(200);
      expect(body.info.migrations).toEqual({ status: 'up', applied: MIGRATIONS.length });
    });
  });

  describe('with the ingest queue full', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await startApp({ INGEST_QUEUE_LIMIT: '1', INGEST_CONCURRENCY: '1' });
      await resetDatabase();
    });
    afterAll(() => app?.close());

    it('is not ready while the queue is full, and ready again once it drains', async () => {
      const postMessage = (id: string) =>
        post(app, afterMessage({ id, sender: 'alice', receiver: 'bob' }));
      // Hold the raw-event table so the first batch cannot commit and the next event waits.
      const locker = new Client({ connectionString: testDatabaseUrl() });
      await locker.connect();
      let first, second;
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE');
        // app.inject() starts a request only once something awaits it.
        first = Promise.resolve(postMessage('q1'));
        await waitFor(async () => (await insertsWaiting()) > 0);
        second = Promise.resolve(postMessage('q2'));
        await waitFor(async () => {
          const res = await app.inject({ method: 'GET', url: '/health' });
          return res.statusCode === 503;
        });
        const res = await app.inject({ method: 'GET', url: '/health' });
        expect(res.json()).toMatchObject({
          status: 'error',
          error: { ingestQueue: { status: 'down', depth: 1, limit: 1 } },
          info: { database: { status: 'up' } },
        });
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      expect((await first).statusCode).toBe(200);
      expect((await second).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    });
  });
});

/** From a connection of its own: within a transaction, pg_stat_activity is a snapshot. */
async function insertsWaiting(): Promise<number> {
  const found = await rows<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND query LIKE '%INSERT INTO webhook_events%' AND wait_event_type = 'Lock'`,
  );
  return found[0].n;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
