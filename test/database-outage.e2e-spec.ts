import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import * as embedded from '../src/db/embedded-postgres';
import { afterMessage } from './factories';
import { startApp, waitForDerivation } from './setup/test-app';
import { ROOT, createTestDatabase } from './setup/test-database';
import { post } from './setup/http';

// A cluster of its own, so stopping it disturbs no other test.
const CLUSTER = {
  dataDir: path.join(ROOT, '.data', 'test-outage-postgres'),
  port: 0,
  database: 'postgres',
};

describe('database outage', () => {
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    const server = embedded.ensure(CLUSTER);
    CLUSTER.port = server.port; // restarted on the same port below
    url = (await createTestDatabase(server)).url;
    app = await startApp({ DB_CONNECT_TIMEOUT_MS: '1000' }, url);
  });
  afterAll(async () => {
    await app?.close();
    embedded.stop(CLUSTER);
  });

  const postMessage = (id: string) =>
    post(app, afterMessage({ id, sender: 'alice', receiver: 'bob' }));

  it('answers 503 while PostgreSQL is down, never 200, and recovers by itself when it returns', async () => {
    expect((await postMessage('before')).statusCode).toBe(200);

    embedded.stop(CLUSTER, 'immediate');
    const started = Date.now();
    const during = await postMessage('during');
    expect(during.statusCode).toBe(503);
    expect(during.headers['retry-after']).toBe('5');
    expect(during.json()).toMatchObject({
      statusCode: 503,
      message: 'The database is unavailable; retry later.',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await app.inject({ method: 'GET', url: '/events' })).statusCode).toBe(503);
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ error: { database: { status: 'down' } } });
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

    embedded.ensure(CLUSTER);
    // CometChat retries what got no 200; the retry is stored exactly once.
    expect((await postMessage('during')).statusCode).toBe(200);
    expect((await postMessage('after')).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    const db = new Client({ connectionString: url });
    await db.connect();
    await waitForDerivation(db);
    const stored = await db.query<{ id: string }>(`SELECT id FROM messages ORDER BY sent_at, id`);
    await db.end();
    expect(stored.rows.map((r) => r.id).sort()).toEqual(['after', 'before', 'during']);
  });
});
