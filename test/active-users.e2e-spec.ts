import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FixedClock } from '../src/common/clock';
import { afterMessage, currentSession, legacyConnection } from './factories';
import { clearOfHourBoundary } from './setup/clock';
import { resetDatabase, rows, startApp, testDatabaseUrl } from './setup/test-app';
import { getJson, iso, postAll } from './setup/http';
import { shuffled, simulatedTraffic } from './setup/traffic';

type Body = Record<string, unknown>;

// 2024-01-01 is a Monday.
const D = Date.UTC(2024, 0, 1);
const H = 3_600_000;
const DAY = 24 * H;
/** Day n of January 2024 (1-based) at hour h. */
const jan = (n: number, h = 0, minutes = 0) => D + (n - 1) * DAY + h * H + minutes * 60_000;

const message = (id: string, sender: string, at: number, appId?: string) =>
  afterMessage({ id, sender, receiver: 'someone', sentAt: at / 1000, appId });

/**
 * app-one, January 2024 (UTC):
 *   alice  web 01 22:00 – 02 01:00 (two days), ios 03 10:00 – 10:30
 *   bob    android 02 23:00 – 03 00:00 (ends at midnight: day 2 only), android 08 09:00 – (open)
 *   carol  web 03 00:00 – 01:00 (starts at midnight: day 3 only); sends on 01 12:00 and 09 08:00
 *   dave   never online; sends on 02 15:00
 * app-two: erin web 02 10:00 – 11:00, sends on 02 10:30.
 * The app's latest event is on the 9th (its horizon): bob's open session is stored through the
 * 9th and counted from the 10th until now from the sessions themselves.
 */
const TIMELINE: Body[] = [
  ...currentSession('alice', 'web', jan(1, 22), jan(2, 1)),
  ...currentSession('alice', 'ios', jan(3, 10), jan(3, 10, 30)),
  ...currentSession('bob', 'android', jan(2, 23), jan(3)),
  ...currentSession('bob', 'android', jan(8, 9), null),
  ...currentSession('carol', 'web', jan(3), jan(3, 1)),
  message('m1', 'carol', jan(1, 12)),
  message('m2', 'carol', jan(9, 8)),
  message('m3', 'dave', jan(2, 15)),
  ...currentSession('erin', 'web', jan(2, 10), jan(2, 11), 'app-two'),
  message('m4', 'erin', jan(2, 10, 30), 'app-two'),
];

const days = (first: number, values: [number, number][]) =>
  values.map(([online, senders], i) => ({
    start: iso(first + i * DAY),
    end: iso(first + (i + 1) * DAY),
    online,
    senders,
  }));

describe('GET /analytics/active-users', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    // reversed: the answer must not depend on arrival order
    await postAll(app, [...TIMELINE].reverse());
  });
  afterAll(() => app.close());

  it('counts distinct users online and distinct senders per UTC day, edges half-open', async () => {
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-one&from=2024-01-01&to=2024-01-11`,
    );
    expect(res.status).toBe(200);
    expect(res.body.interval).toBe('day');
    expect(res.body.from).toBe(iso(jan(1)));
    expect(res.body.to).toBe(iso(jan(11)));
    expect(res.body.buckets).toEqual(
      days(jan(1), [
        [1, 1], // 01: alice from 22:00; carol sends
        [2, 1], // 02: alice until 01:00, bob 23:00-24:00; dave sends
        [2, 0], // 03: alice (ios), carol from 00:00; bob's session ended at 00:00 exactly
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
        [1, 0], // 08: bob connects, never disconnects
        [1, 1], // 09: bob (stored through the horizon); carol sends
        [1, 0], // 10: bob, still open (after the horizon: from the open sessions)
      ]),
    );
    // DAU/MAU over the 10 days: mean daily active users ÷ distinct users of the window
    expect(res.body.stickiness).toEqual({
      days: 10,
      online: { userDays: 8, meanDaily: 0.8, distinct: 3, ratio: 0.8 / 3 },
      senders: { userDays: 3, meanDaily: 0.3, distinct: 2, ratio: 0.15 },
    });
  });

  it('weeks start on Monday; a bucket is cut from whatever from and to fall in', async () => {
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-one&interval=week&from=2024-01-03T12:00:00Z&to=2024-01-09T00:00:01Z`,
    );
    expect(res.body.buckets).toEqual([
      { start: iso(jan(1)), end: iso(jan(8)), online: 3, senders: 2 },
      { start: iso(jan(8)), end: iso(jan(15)), online: 1, senders: 1 },
    ]);
    expect(res.body.stickiness).toMatchObject({ days: 14, online: { distinct: 3 } });
  });

  it('months are calendar months; after the horizon only open sessions count, until now', async () => {
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-one&interval=month&from=2024-01-15&to=2024-03-01`,
    );
    expect(res.body.buckets).toEqual([
      { start: iso(jan(1)), end: iso(Date.UTC(2024, 1, 1)), online: 3, senders: 2 },
      {
        start: iso(Date.UTC(2024, 1, 1)),
        end: iso(Date.UTC(2024, 2, 1)),
        online: 1,
        senders: 0,
      },
    ]);
    // 7 online user-days before the 10th, then bob alone for the other 22 days of January and
    // the 29 of February.
    expect(res.body.stickiness.online).toEqual({
      userDays: 7 + 22 + 29,
      meanDaily: (7 + 22 + 29) / 60,
      distinct: 3,
      ratio: (7 + 22 + 29) / 60 / 3,
    });
  });

  it('with platform=all, adds online users per platform (senders have none)', async () => {
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-one&from=2024-01-01&to=2024-01-04&platform=all`,
    );
    const per = (android: number, ios: number, web: number) => [
      { platform: 'android', online: android },
      { platform: 'ios', online: ios },
      { platform: 'web', online: web },
    ];
    expect(res.body.buckets.map((b: Body) => [b.online, b.platforms])).toEqual([
      [1, per(0, 0, 1)],
      [2, per(1, 0, 1)],
      [2, per(0, 1, 1)],
    ]);
    expect(res.body.stickiness.platforms).toEqual([
      { platform: 'android', userDays: 1, meanDaily: 1 / 3, distinct: 1, ratio: 1 / 3 },
      { platform: 'ios', userDays: 1, meanDaily: 1 / 3, distinct: 1, ratio: 1 / 3 },
      { platform: 'web', userDays: 3, meanDaily: 1, distinct: 2, ratio: 0.5 },
    ]);
  });

  it('with one platform, adds that platform only, also where it has nobody', async () => {
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-one&from=2024-01-01&to=2024-01-03&platform=ios`,
    );
    expect(res.body.buckets.map((b: Body) => b.platforms)).toEqual([
      [{ platform: 'ios', online: 0 }],
      [{ platform: 'ios', online: 0 }],
    ]);
    expect(res.body.buckets.map((b: Body) => b.online)).toEqual([1, 2]);
  });

  it('without appId counts every app, a user being an (app, uid) pair', async () => {
    const res = await getJson(app, `/analytics/active-users?from=2024-01-02&to=2024-01-03`);
    expect(res.body.buckets).toEqual(days(jan(2), [[3, 2]]));
  });

  it('an open session counts until now, and a bucket starting after now counts nobody', async () => {
    await clearOfHourBoundary();
    const today = Math.floor(Date.now() / DAY) * DAY;
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-one&from=${iso(today - DAY)}&to=${iso(today + 2 * DAY)}`,
    );
    expect(res.body.buckets).toEqual(
      days(today - DAY, [
        [1, 0],
        [1, 0],
        [0, 0],
      ]),
    );
    expect(res.body.stickiness).toMatchObject({
      days: 2,
      online: { userDays: 2, meanDaily: 1, distinct: 1, ratio: 1 },
    });
  });

  it('defaults to the 30 days up to now, today included', async () => {
    await clearOfHourBoundary();
    const res = await getJson(app, `/analytics/active-users?appId=app-one`);
    const today = Math.floor(Date.now() / DAY) * DAY;
    expect(res.body.buckets).toHaveLength(30);
    expect(res.body.from).toBe(iso(today - 29 * DAY));
    expect(res.body.to).toBe(iso(today + DAY));
  });

  it.each([
    ['interval=hour', 'interval'],
    ['from=2024-01-02&to=2024-01-02', 'from'],
    ['from=2024-01-03&to=2024-01-02', 'from'],
    ['from=2000-01-01&to=2024-01-01', 'interval'],
    ['to=0001-03-01&interval=month', 'to'],
    ['from=9999-12-01&to=9999-12-31T00:00:01Z&interval=month', 'to'],
    ['platform=x&platform=y', 'platform'],
  ])('%s: 400 naming %s', async (params, field) => {
    const res = await getJson(app, `/analytics/active-users?appId=app-one&${params}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field });
  });
});

describe('active users follow sessions that change after the fact', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
  });
  afterAll(() => app.close());

  const f1 = { session: 'f1', platform: 'ios', connectedAt: jan(4, 10) };
  const f2 = { session: 'f2', platform: 'ios', connectedAt: jan(6, 10) };
  const online = async () =>
    (
      await getJson(app, `/analytics/active-users?appId=app-three&from=2024-01-04&to=2024-01-07`)
    ).body.buckets.map((b: Body) => b.online);

  it('a lost disconnect closed by inference, then the real one arriving late, gives the day back', async () => {
    await postAll(app, [
      legacyConnection({
        uid: 'frank',
        type: 'connected',
        at: f1.connectedAt,
        status: 'online',
        connection: f1,
        open: [f1],
        appId: 'app-three',
      }),
      // two days later another device's events no longer list f1: closed by inference then
      legacyConnection({
        uid: 'frank',
        type: 'connected',
        at: f2.connectedAt,
        status: 'online',
        connection: f2,
        open: [f2],
        appId: 'app-three',
      }),
      legacyConnection({
        uid: 'frank',
        type: 'disconnected',
        at: jan(6, 11),
        status: 'offline',
        connection: f2,
        open: [],
        appId: 'app-three',
      }),
    ]);
    expect(await online()).toEqual([1, 1, 1]);
    // f1's own disconnect, sent on the 4th, arrives now: frank was not online on the 5th
    await postAll(app, [
      legacyConnection({
        uid: 'frank',
        type: 'disconnected',
        at: jan(4, 12),
        status: 'offline',
        connection: f1,
        open: [],
        appId: 'app-three',
      }),
    ]);
    expect(await online()).toEqual([1, 0, 1]);
    const res = await getJson(
      app,
      `/analytics/active-users?appId=app-three&from=2024-01-04&to=2024-01-07`,
    );
    expect(res.body.stickiness.online).toMatchObject({ userDays: 2, distinct: 1 });
  });
});

describe("active users given times from the future (a sender's clock, a forged body)", () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    // The service's clock says 2024-01-10 12:00: the horizon goes no further than the 11th.
    app = await startApp({}, testDatabaseUrl(), { clock: new FixedClock(jan(10, 12)) });
    await resetDatabase();
  });
  afterAll(() => app.close());

  it('stores no online day after the horizon, which stops at tomorrow by the clock', async () => {
    const YEAR_9999 = Date.UTC(9999, 11, 30);
    // Before: each of these made derivation write a day per session until the year 9999 (millions
    // of rows in one statement), and derivation stalled.
    await postAll(app, [
      ...currentSession('zoe', 'web', jan(9, 10), YEAR_9999, 'app-future'),
      ...currentSession('yan', 'ios', jan(9, 12), null, 'app-future'),
      // in milliseconds: CometChat's times come in either unit
      afterMessage({
        id: 'm-future',
        sender: 'yan',
        receiver: 'someone',
        sentAt: YEAR_9999,
        appId: 'app-future',
      }),
    ]);
    const [horizon] = await rows<{ day: string }>(
      `SELECT day::text FROM activity_horizon WHERE app_id = 'app-future'`,
    );
    expect(horizon.day).toBe('2024-01-11');
    const stored = await rows<{ uid: string; kind: string; days: string }>(
      `SELECT uid, kind, string_agg(day::text, ' ' ORDER BY day) AS days FROM activity_days
        WHERE app_id = 'app-future' GROUP BY uid, kind ORDER BY uid, kind`,
    );
    const online = '2024-01-09 2024-01-10 2024-01-11';
    expect(stored).toEqual([
      { uid: 'yan', kind: 'online', days: online },
      { uid: 'yan', kind: 'platform', days: online },
      { uid: 'yan', kind: 'sent', days: '9999-12-30' },
      { uid: 'zoe', kind: 'online', days: online },
      { uid: 'zoe', kind: 'platform', days: online },
    ]);
    const res = await getJson(
      app,
      '/analytics/active-users?appId=app-future&from=2024-01-08&to=2024-01-12',
    );
    expect(res.body.buckets.map((b: Body) => b.online)).toEqual([0, 2, 2, 2]);
  });
});

describe('active users on simulated traffic equal a count over the sessions and messages', () => {
  const start = Date.UTC(2026, 10, 23, 18);
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp({ DERIVE_BATCH: '37', DERIVE_POLL_MS: '10' });
    await resetDatabase();
    const events = simulatedTraffic({
      appId: 'sim',
      users: 10,
      start,
      liveFrom: start + 40 * H,
      end: start + 40 * H + 60_000,
      rate: 5,
      seed: 7,
    });
    for (const e of shuffled(events, 7)) {
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/cometchat',
        headers: { 'content-type': e.contentType },
        payload: e.body,
      });
      expect([200, 400]).toContain(res.statusCode);
    }
  }, 120_000);
  afterAll(() => app.close());

  /** The definitions, counted from the sessions and messages directly. */
  async function counted(from: number, to: number, platform?: string) {
    const [row] = await rows<{ online: number; senders: number }>(
      `SELECT (SELECT count(DISTINCT uid)::int FROM sessions
                WHERE app_id = 'sim' AND ($3::text IS NULL OR platform = $3)
                  AND CASE WHEN connected_at IS NULL OR disconnected_at <= connected_at
                           THEN COALESCE(connected_at, disconnected_at) >= $1
                                AND COALESCE(connected_at, disconnected_at) < $2
                           WHEN disconnected_at IS NULL THEN connected_at < $2 AND $1 <= now()
                           ELSE connected_at < $2 AND disconnected_at > $1 END) AS online,
              (SELECT count(DISTINCT sender)::int FROM messages
                WHERE app_id = 'sim' AND sent_at >= $1 AND sent_at < $2 AND $1 <= now()) AS senders`,
      [new Date(from), new Date(to), platform ?? null],
    );
    return row;
  }

  it.each([
    ['day', '2026-11-22', '2026-11-28'],
    ['week', '2026-11-16', '2026-12-07'],
    ['month', '2026-10-01', '2027-01-01'],
  ])('per %s from %s to %s, and over the whole window', async (interval, from, to) => {
    const res = await getJson(
      app,
      `/analytics/active-users?appId=sim&interval=${interval}&from=${from}&to=${to}&platform=all`,
    );
    expect(res.status).toBe(200);
    const buckets = res.body.buckets as {
      start: string;
      end: string;
      online: number;
      senders: number;
      platforms: { platform: string; online: number }[];
    }[];
    expect(buckets.some((b) => b.online > 0)).toBe(true);
    expect(buckets.some((b) => b.senders > 0)).toBe(true);
    for (const b of buckets) {
      const expected = await counted(Date.parse(b.start), Date.parse(b.end));
      expect({ start: b.start, online: b.online, senders: b.senders }).toEqual({
        start: b.start,
        ...expected,
      });
      for (const p of b.platforms) {
        const onPlatform = await counted(Date.parse(b.start), Date.parse(b.end), p.platform);
        expect({ start: b.start, ...p }).toEqual({
          start: b.start,
          platform: p.platform,
          online: onPlatform.online,
        });
      }
    }
    const whole = await counted(Date.parse(res.body.from), Date.parse(res.body.to));
    expect(res.body.stickiness.online.distinct).toBe(whole.online);
    expect(res.body.stickiness.senders.distinct).toBe(whole.senders);
  });
});
