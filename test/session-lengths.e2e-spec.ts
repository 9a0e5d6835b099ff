import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { currentSession, legacyConnection } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { getJson, iso, postAll } from './setup/http';

const D = Date.UTC(2024, 0, 1);
const M = 60_000;
/** Minutes after 2024-01-01T00:00Z. */
const at = (minutes: number) => D + minutes * M;

const stats = (values: number[]) => {
  // percentile_disc: the first length whose cumulative share reaches the fraction
  const sorted = [...values].sort((a, b) => a - b);
  const disc = (f: number) => sorted[Math.ceil(f * sorted.length) - 1];
  return {
    count: values.length,
    meanMs: Math.round(values.reduce((a, b) => a + b, 0) / values.length),
    p50Ms: disc(0.5),
    p90Ms: disc(0.9),
    p99Ms: disc(0.99),
    maxMs: sorted.at(-1),
  };
};
const none = { count: 0, meanMs: null, p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null };

/**
 * Web sessions of 10, 20, … 100 minutes (ten users, each starting at minute 60), an android
 * session of 5 minutes and an open android one; a legacy ios session whose disconnect never
 * came, closed by inference 30 minutes in when a later event no longer lists it; and one web
 * session starting exactly at `to`, which is out.
 */
describe('GET /analytics/sessions', () => {
  let app: NestFastifyApplication;
  const web = Array.from({ length: 10 }, (_, i) => (i + 1) * 10 * M);

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    const lost = { session: 'i1', platform: 'ios', connectedAt: at(60) };
    const later = { session: 'i2', platform: 'ios', connectedAt: at(90) };
    await postAll(app, [
      ...web.flatMap((ms, i) => currentSession(`w${i}`, 'web', at(60), at(60) + ms)),
      ...currentSession('a1', 'android', at(120), at(125)),
      ...currentSession('a2', 'android', at(130), null),
      legacyConnection({
        uid: 'ivy',
        type: 'connected',
        at: lost.connectedAt,
        status: 'online',
        connection: lost,
        open: [lost],
      }),
      legacyConnection({
        uid: 'ivy',
        type: 'connected',
        at: later.connectedAt,
        status: 'online',
        connection: later,
        open: [later],
      }),
      ...currentSession('late', 'web', at(24 * 60), at(24 * 60 + 10)),
    ]);
  });
  afterAll(() => app.close());

  it('gives exact length distributions, inferred closes and open sessions apart', async () => {
    const res = await getJson(app, `/analytics/sessions?from=2024-01-01&to=2024-01-02`);
    expect(res.status).toBe(200);
    const webStats = stats(web);
    expect(webStats).toEqual({
      count: 10,
      meanMs: 55 * M,
      p50Ms: 50 * M,
      p90Ms: 90 * M,
      p99Ms: 100 * M,
      maxMs: 100 * M,
    });
    expect(res.body).toEqual({
      from: iso(D),
      to: iso(D + 24 * 60 * M),
      sessions: 14, // 10 web, 2 android, 2 ios (i2 is still open)
      open: 2,
      closed: stats([...web, 5 * M]),
      inferred: stats([30 * M]),
      platforms: [
        { platform: 'android', sessions: 2, open: 1, closed: stats([5 * M]), inferred: none },
        { platform: 'ios', sessions: 2, open: 1, closed: none, inferred: stats([30 * M]) },
        { platform: 'web', sessions: 10, open: 0, closed: webStats, inferred: none },
      ],
    });
  });

  it('platform keeps the sessions of one platform', async () => {
    const res = await getJson(
      app,
      `/analytics/sessions?from=2024-01-01&to=2024-01-02&platform=android`,
    );
    expect(res.body).toMatchObject({
      sessions: 2,
      open: 1,
      closed: stats([5 * M]),
      inferred: none,
      platforms: [{ platform: 'android', sessions: 2 }],
    });
  });

  it('counts sessions by their start: one starting at from is in, at to is out', async () => {
    const res = await getJson(app, `/analytics/sessions?from=${iso(at(120))}&to=${iso(at(130))}`);
    expect(res.body).toMatchObject({ sessions: 1, open: 0, closed: stats([5 * M]) });
  });

  it('answers zeros and no platforms over an empty window', async () => {
    const res = await getJson(app, `/analytics/sessions?from=2023-01-01&to=2023-01-02`);
    expect(res.body).toEqual({
      from: iso(Date.UTC(2023, 0, 1)),
      to: iso(Date.UTC(2023, 0, 2)),
      sessions: 0,
      open: 0,
      closed: none,
      inferred: none,
      platforms: [],
    });
  });

  it.each([
    ['from=2024-01-02&to=2024-01-01', 'from'],
    ['from=yesterday', 'from'],
    ['platform=a&platform=b', 'platform'],
  ])('%s: 400 naming %s', async (params, field) => {
    const res = await getJson(app, `/analytics/sessions?${params}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field });
  });
});
