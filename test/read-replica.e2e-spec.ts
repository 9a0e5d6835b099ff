import { Pool } from 'pg';
import { afterMessage, currentConnection } from './factories';
import { freePort } from './reliability/service';
import { get, postAll } from './setup/http';
import { BOTH_WAITS, expectServedBy } from './setup/read-replica';
import { resetDatabase, startApp, testDatabaseUrl } from './setup/test-app';

/**
 * DATABASE_REPLICA_URL when the replica cannot serve: the primary answers, never an error. A
 * real streaming replica is tested in test/scale/replica.scale-spec.ts (npm run test:scale).
 */
const T = Date.UTC(2024, 0, 1, 10);
const WINDOW = 'from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z';
const HEAVY = [
  '/users/alice/sessions',
  '/events',
  '/apps',
  `/analytics/read-latency?${WINDOW}`,
  `/analytics/concurrency?${WINDOW}&interval=hour`,
  `/analytics/conversations?${WINDOW}`,
];

describe('read replica unusable (DATABASE_REPLICA_URL)', () => {
  beforeAll(async () => {
    await resetDatabase();
    const app = await startApp();
    try {
      await postAll(app, [
        currentConnection({
          uid: 'alice',
          action: 'connected',
          at: T,
          status: 'online',
          connectedAt: T,
        }),
        // Closed: an open session's time online grows with the clock between two answers.
        currentConnection({
          uid: 'alice',
          action: 'disconnected',
          at: T + 60_000,
          status: 'offline',
          connectedAt: T,
        }),
        afterMessage({ id: '1', sender: 'alice', receiver: 'bob' }),
      ]);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['unreachable', async () => `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/x`],
    ['not a standby (the primary itself)', () => Promise.resolve(testDatabaseUrl())],
  ])('%s: every heavy read is answered by the primary', async (_case, replicaUrl) => {
    const app = await startApp({ DATABASE_REPLICA_URL: await replicaUrl() });
    const direct = await startApp();
    try {
      await expectServedBy(app, direct, HEAVY, 'primary', BOTH_WAITS);
      const health = await get(app, '/health');
      expect(health.statusCode).toBe(200);
      expect(health.json<{ info: { replica: unknown } }>().info.replica).toEqual({
        status: 'up',
        reachable: false,
        lagBytes: null,
        lagMs: null,
        replayPaused: null,
        degraded: true,
      });
      const metrics = (await get(app, '/metrics')).body;
      expect(metrics).toMatch(/^db_replica_status\{measure="up"\} 0$/m);
      expect(metrics).toMatch(/^routed_reads_total\{served_by="primary"\} [1-9]/m);
    } finally {
      await app.close();
      await direct.close();
    }
  });

  it('is left out of /health and /metrics when not set', async () => {
    const app = await startApp();
    try {
      expect((await get(app, '/health')).json<{ info: object }>().info).not.toHaveProperty(
        'replica',
      );
      expect((await get(app, '/metrics')).body).not.toMatch(/db_replica_status/);
      expect((await get(app, '/events')).headers['x-read-from']).toBe('primary');
    } finally {
      await app.close();
    }
  });
});

describe('DB_PREPARED_STATEMENTS', () => {
  /** Statements prepared on the app's one connection after a webhook and a presence query. */
  async function preparedAfterTraffic(env: Record<string, string>): Promise<number> {
    const app = await startApp({ DB_POOL_SIZE: '1', ...env });
    try {
      await postAll(app, [
        currentConnection({
          uid: 'carol',
          action: 'connected',
          at: T,
          status: 'online',
          connectedAt: T,
        }),
      ]);
      expect((await get(app, '/users/carol/presence')).statusCode).toBe(200);
      const { rows } = await app
        .get(Pool)
        .query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements`);
      return rows[0].n;
    } finally {
      await app.close();
    }
  }

  it('prepares named statements by default, and none when false (for PgBouncer)', async () => {
    expect(await preparedAfterTraffic({})).toBeGreaterThan(0);
    expect(await preparedAfterTraffic({ DB_PREPARED_STATEMENTS: 'false' })).toBe(0);
  });
});
