import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SimEvent, TrafficModel } from '../../scripts/traffic-model';
import { currentConnection } from '../factories';
import { fillPath, isPublicRoute, listRoutes } from '../setup/routes';
import { BOTH_WAITS, expectServedBy } from '../setup/read-replica';
import { startApp } from '../setup/test-app';
import { startReplicaPair, ReplicaPair } from './replica-pair';

/**
 * DATABASE_REPLICA_URL against a real streaming replica (PostgreSQL 18, cold copy of the primary):
 * the heavy reads go to it when it is caught up, read-your-writes holds when it is not (replay
 * paused: the primary answers after the bounded wait), a stopped replica costs nothing but the
 * primary's answer, and every other route reads the primary.
 */
const HOUR = 3_600_000;
const APP_ID = 'replica';
const START = Date.UTC(2026, 2, 2, 6);
const WINDOW = `from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z`;
const UID = 'sim-amara';

/** The routes that read the replica when they can; every other query route reads the primary. */
const HEAVY = [
  '/analytics/read-latency',
  '/analytics/delivery-latency',
  '/analytics/concurrency',
  '/analytics/conversations',
  '/users/:uid/sessions',
  '/events',
  '/events/rejected',
  '/apps',
];
const HEAVY_URLS = [
  `/analytics/read-latency?appId=${APP_ID}&${WINDOW}`,
  `/analytics/delivery-latency?appId=${APP_ID}&${WINDOW}&interval=hour`,
  `/analytics/concurrency?appId=${APP_ID}&${WINDOW}&interval=hour`,
  `/analytics/conversations?appId=${APP_ID}&${WINDOW}`,
  `/users/${UID}/sessions?appId=${APP_ID}&${WINDOW}`,
  `/events?appId=${APP_ID}&limit=50`,
  `/events/rejected?appId=${APP_ID}`,
  `/apps?appId=${APP_ID}`,
];

function traffic(): SimEvent[] {
  return new TrafficModel({
    appId: APP_ID,
    users: 6,
    start: START,
    liveFrom: START + 3 * HOUR,
    end: START + 3 * HOUR + 30_000,
    rate: 5,
    seed: 12,
  }).rest();
}

/** A new session of a user unknown so far: only a read that sees this write knows it. */
function connects(uid: string, at: number) {
  return currentConnection({
    uid,
    action: 'connected',
    at,
    status: 'online',
    connectedAt: at,
    platform: 'web',
    appId: APP_ID,
  });
}

describe('read replica (DATABASE_REPLICA_URL)', () => {
  let pair: ReplicaPair;
  let app: NestFastifyApplication;
  /** The same service without a replica: what every answer must equal. */
  let primaryOnly: NestFastifyApplication;

  const get = (target: NestFastifyApplication, url: string, headers: Record<string, string> = {}) =>
    target.inject({ method: 'GET', url, headers });
  const post = (body: object | string, contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: '/webhooks/cometchat',
      headers: { 'content-type': contentType },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    pair = await startReplicaPair();
    app = await startApp(
      { DATABASE_REPLICA_URL: pair.replicaUrl, REPLICA_MAX_WAIT_MS: '300' },
      pair.primaryUrl,
    );
    primaryOnly = await startApp({}, pair.primaryUrl);
    for (const e of traffic()) {
      await post(e.body, e.contentType);
    }
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await primaryOnly?.close();
    pair?.close();
  });

  it('serves the heavy reads from the replica once caught up, with the primary’s answers', async () => {
    await expectServedBy(app, primaryOnly, HEAVY_URLS, 'replica');
    const sessions = await get(app, `/users/${UID}/sessions?appId=${APP_ID}&${WINDOW}`);
    expect(sessions.json<{ items: unknown[] }>().items.length).toBeGreaterThan(0);
  });

  it('marks exactly the heavy routes; every other query route reads the primary', async () => {
    const queries = listRoutes(app).filter((r) => r.method === 'GET' && !isPublicRoute(r));
    const routed: string[] = [];
    for (const route of queries) {
      const res = await get(app, fillPath(route.url));
      if (res.headers['x-read-from'] !== undefined) {
        routed.push(route.url);
      }
    }
    expect(routed.sort()).toEqual([...HEAVY].sort());
  });

  describe('with replay paused on the replica', () => {
    beforeAll(() => pair.onReplica('SELECT pg_wal_replay_pause()'));
    afterAll(() => pair.onReplica('SELECT pg_wal_replay_resume()'));

    it('reads its own writes: the primary answers after the bounded wait, and says so', async () => {
      const at = START + 3 * HOUR + 10_000;
      expect((await post(connects('newcomer', at))).statusCode).toBe(200);
      const url = `/users/newcomer/sessions?appId=${APP_ID}&${WINDOW}`;
      const read = await get(app, url);
      expect(read.statusCode).toBe(200);
      expect(read.headers['x-read-from']).toBe('primary');
      expect(read.json()).toMatchObject({ items: [{ connectedAt: new Date(at).toISOString() }] });

      const events = await get(app, `/events?appId=${APP_ID}&uid=newcomer`);
      expect(events.headers['x-read-from']).toBe('primary');
      expect(events.json<{ items: unknown[] }>().items).toHaveLength(1);

      // Presence is not a heavy read: the primary, at once.
      const presence = await get(app, `/users/newcomer/presence?appId=${APP_ID}`);
      expect(presence.statusCode).toBe(200);
      expect(presence.headers['x-read-from']).toBeUndefined();
      expect(presence.json()).toMatchObject({ status: 'online' });
    });

    it('answers from the replica as it is with Prefer: wait=0, which shows it really is behind', async () => {
      expect((await post(connects('latecomer', START + 3 * HOUR + 20_000))).statusCode).toBe(200);
      const url = `/users/latecomer/sessions?appId=${APP_ID}&${WINDOW}`;
      const stale = await get(app, url, { prefer: 'wait=0' });
      expect(stale.headers['x-read-from']).toBe('replica');
      // The replica has not replayed the connection: to it, the user does not exist.
      expect(stale.statusCode).toBe(404);
      const fresh = await get(app, url);
      expect({ status: fresh.statusCode, from: fresh.headers['x-read-from'] }).toEqual({
        status: 200,
        from: 'primary',
      });
    });

    it('reports the lag in /health (degraded, still 200) and /metrics', async () => {
      const health = await get(app, '/health');
      expect(health.statusCode).toBe(200);
      const replica = health.json<{ info: { replica: Record<string, unknown> } }>().info.replica;
      expect(replica).toMatchObject({
        status: 'up',
        reachable: true,
        replayPaused: true,
        degraded: true,
      });
      expect(replica.lagBytes).toBeGreaterThan(0);
      const metrics = (await get(app, '/metrics')).body;
      const lag = /^db_replica_status\{measure="lag_bytes"\} (\d+)$/m.exec(metrics);
      expect(Number(lag?.[1])).toBeGreaterThan(0);
      expect(metrics).toMatch(/^db_replica_status\{measure="replay_paused"\} 1$/m);
      expect(metrics).toMatch(/^routed_reads_total\{served_by="primary"\} [1-9]/m);
    });
  });

  it('goes back to the replica once it has caught up', async () => {
    await eventually(async () => {
      const res = await get(app, `/users/latecomer/sessions?appId=${APP_ID}&${WINDOW}`);
      return res.statusCode === 200 && res.headers['x-read-from'] === 'replica';
    });
    const health = await get(app, '/health');
    expect(health.json<{ info: { replica: unknown } }>().info.replica).toMatchObject({
      reachable: true,
      replayPaused: false,
    });
  });

  describe('with the replica stopped', () => {
    beforeAll(() => pair.stopReplica());
    afterAll(() => pair.startReplica());

    it('answers every heavy read from the primary, never 503', async () => {
      // Prefer: wait=0 goes to the replica without asking it first: the failed read is retried
      // on the primary.
      const first = await get(app, HEAVY_URLS[0], { prefer: 'wait=0' });
      expect({ status: first.statusCode, from: first.headers['x-read-from'] }).toEqual({
        status: 200,
        from: 'primary',
      });
      await expectServedBy(app, primaryOnly, HEAVY_URLS, 'primary', BOTH_WAITS);
      const health = await get(app, '/health');
      expect(health.statusCode).toBe(200);
      expect(health.json<{ info: { replica: unknown } }>().info.replica).toMatchObject({
        status: 'up',
        reachable: false,
        degraded: true,
      });
      expect((await get(app, '/metrics')).body).toMatch(/^db_replica_status\{measure="up"\} 0$/m);
    });
  });

  it('uses the replica again once it is back', async () => {
    await eventually(async () => {
      const res = await get(app, HEAVY_URLS[0]);
      return res.statusCode === 200 && res.headers['x-read-from'] === 'replica';
    });
  });
});

/** Polls `check` until it holds; fails after 20 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met within 20 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
