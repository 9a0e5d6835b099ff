import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { APP, currentConnection, legacyConnection } from './factories';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { getJson, iso, post, postAll } from './setup/http';

type Body = Record<string, unknown>;

const T = Date.UTC(2024, 0, 1, 10, 0, 0);
const S = 1000;
/** What the factories' connection events tell of the client, on every session they open. */
const LEGACY_DETAIL = {
  userAgent: null,
  sdkVersion: null,
  apiVersion: null,
  origin: null,
  openedBy: 'event',
};
const CURRENT_DETAIL = {
  userAgent: 'Mozilla/5.0',
  sdkVersion: '4.0.0',
  apiVersion: null,
  origin: null,
  openedBy: 'event',
};

/** A legacy connection event; `open` are the user's sessions after it (connectedAt = at - 50). */
function legacy(
  uid: string,
  type: 'connected' | 'disconnected',
  session: string,
  at: number,
  open: string[],
  o: { connectedAt?: number; appId?: string; platform?: string } = {},
): Body {
  const conn = (s: string) => ({
    session: s,
    connectedAt: s === session ? (o.connectedAt ?? at - 50) : at - 50,
    platform: o.platform,
  });
  return legacyConnection({
    uid,
    type,
    at,
    status: open.length > 0 ? 'online' : 'offline',
    connection: conn(session),
    open: open.map(conn),
    appId: o.appId,
  });
}

function current(
  uid: string,
  action: 'connected' | 'disconnected',
  platform: string,
  connectedAt: number,
  at: number,
  status: 'online' | 'offline',
  appId?: string,
): Body {
  return currentConnection({ uid, action, at, status, connectedAt, platform, appId });
}

const dump = () =>
  Promise.all([
    rows(`SELECT * FROM presence ORDER BY app_id, uid`),
    rows(`SELECT * FROM sessions ORDER BY app_id, uid, session_key`),
    rows(
      `SELECT app_id, uid, action, at, status, session_key, device_id, platform, connected_at,
              open_sessions, last_active_at
         FROM connection_events ORDER BY app_id, uid, at, session_key, action`,
    ),
  ]);

describe('Presence and sessions', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  describe('one device', () => {
    it('legacy: connect then disconnect', async () => {
      await postAll(app, [legacy('alice', 'connected', 's1', T, ['s1'])]);
      expect((await getJson(app, '/users/alice/presence')).body).toEqual({
        uid: 'alice',
        appId: APP,
        status: 'online',
        since: iso(T),
        lastSeenAt: iso(T),
        lastActiveAt: null,
        sessions: [
          {
            sessionId: 's1',
            deviceId: 'device-s1',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T - 50),
          },
        ],
      });

      await postAll(app, [
        legacy('alice', 'disconnected', 's1', T + 60 * S, [], { connectedAt: T - 50 }),
      ]);
      expect((await getJson(app, '/users/alice/presence')).body).toEqual({
        uid: 'alice',
        appId: APP,
        status: 'offline',
        since: iso(T + 60 * S),
        lastSeenAt: iso(T + 60 * S),
        lastActiveAt: null,
        sessions: [],
      });
      expect((await getJson(app, '/users/alice/sessions')).body).toEqual({
        items: [
          {
            sessionId: 's1',
            deviceId: 'device-s1',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T - 50),
            disconnectedAt: iso(T + 60 * S),
            durationMs: 60_050,
            closedBy: 'event',
          },
        ],
        totalOnlineMs: 60_050,
        nextCursor: null,
      });
    });

    it('current format: connect then disconnect, with lastActiveAt', async () => {
      await postAll(app, [
        currentConnection({
          uid: 'carol',
          action: 'connected',
          at: T,
          status: 'online',
          connectedAt: T - 20,
          platform: 'ios',
          lastActiveAt: T / 1000,
        }),
        currentConnection({
          uid: 'carol',
          action: 'disconnected',
          at: T + 90 * S,
          status: 'offline',
          connectedAt: T - 20,
          platform: 'ios',
          lastActiveAt: T / 1000 + 85,
        }),
      ]);
      expect((await getJson(app, '/users/carol/presence')).body).toEqual({
        uid: 'carol',
        appId: APP,
        status: 'offline',
        since: iso(T + 90 * S),
        lastSeenAt: iso(T + 90 * S),
        lastActiveAt: iso(T + 85 * S),
        sessions: [],
      });
      expect((await getJson(app, '/users/carol/sessions')).body).toEqual({
        items: [
          {
            sessionId: `${T - 20}:ios`,
            deviceId: null,
            ...CURRENT_DETAIL,
            platform: 'ios',
            connectedAt: iso(T - 20),
            disconnectedAt: iso(T + 90 * S),
            durationMs: 90_020,
            closedBy: 'event',
          },
        ],
        totalOnlineMs: 90_020,
        nextCursor: null,
      });
    });
  });

  describe('two devices overlapping', () => {
    it('legacy: stays online while one device is left, and counts the overlap once', async () => {
      await postAll(app, [
        legacy('bob', 'connected', 'web1', T, ['web1'], { connectedAt: T }),
        legacy('bob', 'connected', 'and1', T + 10 * S, ['web1', 'and1'], {
          connectedAt: T + 10 * S,
        }),
        legacy('bob', 'disconnected', 'web1', T + 20 * S, ['and1'], { connectedAt: T }),
      ]);
      expect((await getJson(app, '/users/bob/presence')).body).toEqual({
        uid: 'bob',
        appId: APP,
        status: 'online',
        since: iso(T),
        lastSeenAt: iso(T + 20 * S),
        lastActiveAt: null,
        sessions: [
          {
            sessionId: 'and1',
            deviceId: 'device-and1',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T + 10 * S),
          },
        ],
      });

      await postAll(app, [
        legacy('bob', 'disconnected', 'and1', T + 30 * S, [], { connectedAt: T + 10 * S }),
      ]);
      const presence = (await getJson(app, '/users/bob/presence')).body;
      expect(presence).toMatchObject({ status: 'offline', since: iso(T + 30 * S), sessions: [] });
      const sessions = (await getJson(app, '/users/bob/sessions')).body;
      expect(sessions.items.map((i: Body) => [i.sessionId, i.durationMs, i.closedBy])).toEqual([
        ['and1', 20_000, 'event'],
        ['web1', 20_000, 'event'],
      ]);
      // [T, T+20s] ∪ [T+10s, T+30s] = 30 s, not 40 s of device time
      expect(sessions.totalOnlineMs).toBe(30_000);
    });

    it('current format: the payload status decides, not the event type', async () => {
      await postAll(app, [
        current('dora', 'connected', 'web', T, T, 'online'),
        current('dora', 'connected', 'ios', T + 5 * S, T + 5 * S, 'online'),
        current('dora', 'disconnected', 'web', T, T + 15 * S, 'online'),
      ]);
      expect((await getJson(app, '/users/dora/presence')).body).toMatchObject({
        status: 'online',
        since: iso(T),
        sessions: [
          {
            sessionId: `${T + 5 * S}:ios`,
            deviceId: null,
            ...CURRENT_DETAIL,
            platform: 'ios',
            connectedAt: iso(T + 5 * S),
          },
        ],
      });
      expect((await getJson(app, '/users/dora/sessions?to=' + iso(T + 25 * S))).body).toMatchObject(
        {
          items: [
            {
              sessionId: `${T + 5 * S}:ios`,
              disconnectedAt: null,
              durationMs: null,
              closedBy: null,
            },
            {
              sessionId: `${T}:web`,
              disconnectedAt: iso(T + 15 * S),
              durationMs: 15_000,
              closedBy: 'event',
            },
          ],
          // the open ios session runs until `to`
          totalOnlineMs: 25_000,
        },
      );
    });
  });

  describe('arrival order', () => {
    it('a disconnect that arrives before its connect yields one closed session', async () => {
      await postAll(app, [
        legacy('erin', 'disconnected', 's1', T + 60 * S, [], { connectedAt: T }),
        legacy('erin', 'connected', 's1', T + 50, ['s1'], { connectedAt: T }),
      ]);
      expect(
        await rows(`SELECT session_key, connected_at, disconnected_at, closed_by FROM sessions`),
      ).toEqual([
        {
          session_key: 's1',
          connected_at: new Date(T),
          disconnected_at: new Date(T + 60 * S),
          closed_by: 'event',
        },
      ]);
      expect((await getJson(app, '/users/erin/presence')).body).toMatchObject({
        status: 'offline',
        since: iso(T + 60 * S),
        lastSeenAt: iso(T + 60 * S),
        sessions: [],
      });
    });

    it('current format: disconnect first, then connect', async () => {
      await postAll(app, [
        current('fred', 'disconnected', 'android', T, T + 40 * S, 'offline'),
        current('fred', 'connected', 'android', T, T, 'online'),
      ]);
      expect((await getJson(app, '/users/fred/sessions')).body).toEqual({
        items: [
          {
            sessionId: `${T}:android`,
            deviceId: null,
            ...CURRENT_DETAIL,
            platform: 'android',
            connectedAt: iso(T),
            disconnectedAt: iso(T + 40 * S),
            durationMs: 40_000,
            closedBy: 'event',
          },
        ],
        totalOnlineMs: 40_000,
        nextCursor: null,
      });
      expect((await getJson(app, '/users/fred/presence')).body).toMatchObject({
        status: 'offline',
        since: iso(T + 40 * S),
      });
    });

    it('stale events arriving after newer ones never overwrite them, and end as in time order', async () => {
      const timeline = [
        legacy('gus', 'connected', 's1', T, ['s1'], { connectedAt: T }),
        legacy('gus', 'connected', 's2', T + 10 * S, ['s1', 's2'], { connectedAt: T + 10 * S }),
        legacy('gus', 'disconnected', 's2', T + 20 * S, ['s1'], { connectedAt: T + 10 * S }),
        legacy('gus', 'disconnected', 's1', T + 30 * S, [], { connectedAt: T }),
      ];
      await postAll(app, timeline);
      const inOrder = await dump();
      const answers = [
        (await getJson(app, '/users/gus/presence')).body,
        (await getJson(app, '/users/gus/sessions')).body,
      ];
      await resetDatabase();

      await postAll(app, [timeline[0], timeline[3], timeline[1]]);
      // s2's connect is older than the offline event: still offline, and s2 is closed by inference
      expect((await getJson(app, '/users/gus/presence')).body).toMatchObject({
        status: 'offline',
        since: iso(T + 30 * S),
        lastSeenAt: iso(T + 30 * S),
        sessions: [],
      });
      expect((await getJson(app, '/users/gus/sessions')).body.items[0]).toMatchObject({
        sessionId: 's2',
        disconnectedAt: iso(T + 30 * S),
        closedBy: 'inferred',
      });
      // its real disconnect then replaces the inferred close
      await postAll(app, [timeline[2]]);
      expect(await dump()).toEqual(inOrder);
      expect([
        (await getJson(app, '/users/gus/presence')).body,
        (await getJson(app, '/users/gus/sessions')).body,
      ]).toEqual(answers);
      expect(answers[1]).toEqual({
        items: [
          {
            sessionId: 's2',
            deviceId: 'device-s2',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T + 10 * S),
            disconnectedAt: iso(T + 20 * S),
            durationMs: 10_000,
            closedBy: 'event',
          },
          {
            sessionId: 's1',
            deviceId: 'device-s1',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T),
            disconnectedAt: iso(T + 30 * S),
            durationMs: 30_000,
            closedBy: 'event',
          },
        ],
        totalOnlineMs: 30_000,
        nextCursor: null,
      });
    });

    it('a status change in the middle of the history moves `since` when it arrives late', async () => {
      await postAll(app, [
        current('hal', 'connected', 'web', T, T, 'online'),
        current('hal', 'connected', 'web', T + 100 * S, T + 100 * S, 'online'),
      ]);
      expect((await getJson(app, '/users/hal/presence')).body).toMatchObject({
        status: 'online',
        since: iso(T),
      });
      await postAll(app, [current('hal', 'disconnected', 'web', T, T + 50 * S, 'offline')]);
      expect((await getJson(app, '/users/hal/presence')).body).toMatchObject({
        status: 'online',
        since: iso(T + 100 * S),
        lastSeenAt: iso(T + 100 * S),
      });
    });
  });

  it('duplicates change nothing', async () => {
    const connect = legacy('ivy', 'connected', 's1', T, ['s1']);
    const disconnect = legacy('ivy', 'disconnected', 's1', T + 60 * S, [], { connectedAt: T - 50 });
    await postAll(app, [connect, disconnect]);
    const before = await dump();
    const answer = (await getJson(app, '/users/ivy/sessions')).body;

    const again = await post(app, connect);
    expect(again.json()).toMatchObject({ duplicate: true });
    // the same natural key in other bytes (time as a string) is a redelivery too
    const reworded = legacy('ivy', 'disconnected', 's1', T + 60 * S, [], {
      connectedAt: T - 50,
    }) as {
      data: { event: { at: unknown } };
    };
    reworded.data.event.at = String(T + 60 * S);
    expect((await post(app, reworded)).json()).toMatchObject({ duplicate: true });
    const concurrent = await Promise.all([
      post(app, connect),
      post(app, disconnect),
      post(app, connect),
    ]);
    expect(concurrent.map((r) => r.json().duplicate)).toEqual([true, true, true]);

    expect(await dump()).toEqual(before);
    expect((await getJson(app, '/users/ivy/sessions')).body).toEqual(answer);
    expect(before[2]).toHaveLength(2);
  });

  describe('missing disconnects closed by inference', () => {
    it('legacy: a session absent from a later connections[] is closed at that event', async () => {
      await postAll(app, [
        legacy('jan', 'connected', 's1', T, ['s1'], { connectedAt: T }),
        legacy('jan', 'connected', 's2', T + 10 * S, ['s1', 's2'], { connectedAt: T + 10 * S }),
        // s1's disconnect was lost: the next event lists only s2 and s3
        legacy('jan', 'connected', 's3', T + 20 * S, ['s2', 's3'], { connectedAt: T + 20 * S }),
      ]);
      const presence = (await getJson(app, '/users/jan/presence')).body;
      expect(presence).toMatchObject({ status: 'online', since: iso(T) });
      expect(presence.sessions.map((s: Body) => s.sessionId)).toEqual(['s2', 's3']);
      expect((await getJson(app, '/users/jan/sessions')).body.items[2]).toEqual({
        sessionId: 's1',
        deviceId: 'device-s1',
        ...LEGACY_DETAIL,
        platform: 'web',
        connectedAt: iso(T),
        disconnectedAt: iso(T + 20 * S),
        durationMs: 20_000,
        closedBy: 'inferred',
      });

      // the lost disconnect turns up after all: it replaces the inference
      await postAll(app, [
        legacy('jan', 'disconnected', 's1', T + 15 * S, ['s2'], { connectedAt: T }),
      ]);
      expect((await getJson(app, '/users/jan/sessions')).body.items[2]).toMatchObject({
        disconnectedAt: iso(T + 15 * S),
        durationMs: 15_000,
        closedBy: 'event',
      });
    });

    it('current format: an offline event closes every session still open', async () => {
      await postAll(app, [
        current('kim', 'connected', 'web', T, T, 'online'),
        current('kim', 'connected', 'ios', T + 10 * S, T + 10 * S, 'online'),
        // web's disconnect was lost; ios goes and the user is offline
        current('kim', 'disconnected', 'ios', T + 10 * S, T + 30 * S, 'offline'),
      ]);
      expect((await getJson(app, '/users/kim/presence')).body).toMatchObject({
        status: 'offline',
        since: iso(T + 30 * S),
        sessions: [],
      });
      expect((await getJson(app, '/users/kim/sessions')).body).toMatchObject({
        items: [
          { sessionId: `${T + 10 * S}:ios`, disconnectedAt: iso(T + 30 * S), closedBy: 'event' },
          {
            sessionId: `${T}:web`,
            disconnectedAt: iso(T + 30 * S),
            durationMs: 30_000,
            closedBy: 'inferred',
          },
        ],
        totalOnlineMs: 30_000,
      });
    });

    it("an event between a session's connectedAt and its own connect event does not close it", async () => {
      // s2 started at T+5s but its connect event is stamped T+10s; s3's event at T+6s predates it
      const events = [
        legacy('lou', 'connected', 's1', T, ['s1'], { connectedAt: T }),
        legacy('lou', 'connected', 's3', T + 6 * S, ['s1', 's3'], { connectedAt: T + 6 * S }),
        legacy('lou', 'connected', 's2', T + 10 * S, ['s1', 's2', 's3'], {
          connectedAt: T + 5 * S,
        }),
      ];
      for (const order of [
        [0, 1, 2],
        [2, 1, 0],
      ]) {
        await resetDatabase();
        await postAll(
          app,
          order.map((i) => events[i]),
        );
        const sessions = (await getJson(app, '/users/lou/presence')).body.sessions;
        expect(sessions.map((s: Body) => s.sessionId)).toEqual(['s1', 's2', 's3']);
      }
    });

    it('a session with no later evidence stays open', async () => {
      await postAll(app, [current('max', 'connected', 'web', T, T, 'online')]);
      expect((await getJson(app, '/users/max/sessions')).body.items).toEqual([
        {
          sessionId: `${T}:web`,
          deviceId: null,
          ...CURRENT_DETAIL,
          platform: 'web',
          connectedAt: iso(T),
          disconnectedAt: null,
          durationMs: null,
          closedBy: null,
        },
      ]);
    });
  });

  describe('GET /users/:uid/sessions ranges and pages', () => {
    beforeEach(() =>
      postAll(app, [
        legacy('nia', 'connected', 'a', T, ['a'], { connectedAt: T }),
        legacy('nia', 'disconnected', 'a', T + 60 * S, [], { connectedAt: T }),
        legacy('nia', 'connected', 'b', T + 120 * S, ['b'], { connectedAt: T + 120 * S }),
        legacy('nia', 'disconnected', 'b', T + 180 * S, [], { connectedAt: T + 120 * S }),
        legacy('nia', 'connected', 'c', T + 240 * S, ['c'], { connectedAt: T + 240 * S }),
      ]),
    );

    it('clips totalOnlineMs to a range that cuts sessions at both edges', async () => {
      const res = await getJson(
        app,
        `/users/nia/sessions?from=${iso(T + 30 * S)}&to=${iso(T + 150 * S)}`,
      );
      expect(res.body.items.map((i: Body) => i.sessionId)).toEqual(['b', 'a']);
      // 30 s of a + 30 s of b; durations stay whole
      expect(res.body.totalOnlineMs).toBe(60_000);
      expect(res.body.items.map((i: Body) => i.durationMs)).toEqual([60_000, 60_000]);
    });

    it('counts an open session until `to`, and accepts Unix seconds and milliseconds', async () => {
      const res = await getJson(
        app,
        `/users/nia/sessions?from=${(T + 170 * S) / 1000}&to=${T + 300 * S}`,
      );
      expect(res.body).toEqual({
        items: [
          {
            sessionId: 'c',
            deviceId: 'device-c',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T + 240 * S),
            disconnectedAt: null,
            durationMs: null,
            closedBy: null,
          },
          {
            sessionId: 'b',
            deviceId: 'device-b',
            ...LEGACY_DETAIL,
            platform: 'web',
            connectedAt: iso(T + 120 * S),
            disconnectedAt: iso(T + 180 * S),
            durationMs: 60_000,
            closedBy: 'event',
          },
        ],
        totalOnlineMs: 10_000 + 60_000,
        nextCursor: null,
      });
    });

    it('without `to`, an open session runs until now', async () => {
      const before = Date.now();
      const res = await getJson(app, `/users/nia/sessions?from=${iso(T + 240 * S)}`);
      expect(res.body.items.map((i: Body) => i.sessionId)).toEqual(['c']);
      expect(res.body.totalOnlineMs).toBeGreaterThanOrEqual(before - (T + 240 * S));
      expect(res.body.totalOnlineMs).toBeLessThanOrEqual(Date.now() - (T + 240 * S));
    });

    it('pages newest first with an opaque cursor; the total covers the whole range', async () => {
      const seen: string[] = [];
      let url = `/users/nia/sessions?limit=2&to=${iso(T + 300 * S)}`;
      for (;;) {
        const res = await getJson(app, url);
        expect(res.status).toBe(200);
        expect(res.body.totalOnlineMs).toBe(60_000 + 60_000 + 60_000);
        seen.push(...res.body.items.map((i: Body) => i.sessionId));
        if (res.body.nextCursor === null) {
          break;
        }
        url = `/users/nia/sessions?limit=2&to=${iso(T + 300 * S)}&cursor=${res.body.nextCursor}`;
      }
      expect(seen).toEqual(['c', 'b', 'a']);
    });

    it('an empty range answers no items and 0 ms', async () => {
      expect(
        (await getJson(app, `/users/nia/sessions?from=${iso(T + 61 * S)}&to=${iso(T + 119 * S)}`))
          .body,
      ).toEqual({
        items: [],
        totalOnlineMs: 0,
        nextCursor: null,
      });
    });
  });

  describe('GET /presence/online', () => {
    it('counts and pages the users online now, with since and open sessions', async () => {
      await postAll(app, [
        legacy('ann', 'connected', 'a1', T, ['a1'], { connectedAt: T }),
        current('ben', 'connected', 'ios', T + S, T + S, 'online'),
        current('ben', 'connected', 'web', T + 2 * S, T + 2 * S, 'online'),
        legacy('cat', 'connected', 'c1', T, ['c1'], { connectedAt: T }),
        legacy('cat', 'disconnected', 'c1', T + 5 * S, [], { connectedAt: T }),
        legacy('ann', 'connected', 'x1', T + 3 * S, ['x1'], {
          connectedAt: T + 3 * S,
          appId: 'app-two',
        }),
      ]);
      const first = await getJson(app, '/presence/online?limit=2');
      expect(first.body).toEqual({
        count: 3,
        items: [
          {
            uid: 'ann',
            appId: APP,
            since: iso(T),
            sessions: [
              {
                sessionId: 'a1',
                deviceId: 'device-a1',
                ...LEGACY_DETAIL,
                platform: 'web',
                connectedAt: iso(T),
              },
            ],
          },
          {
            uid: 'ben',
            appId: APP,
            since: iso(T + S),
            sessions: [
              {
                sessionId: `${T + S}:ios`,
                deviceId: null,
                ...CURRENT_DETAIL,
                platform: 'ios',
                connectedAt: iso(T + S),
              },
              {
                sessionId: `${T + 2 * S}:web`,
                deviceId: null,
                ...CURRENT_DETAIL,
                platform: 'web',
                connectedAt: iso(T + 2 * S),
              },
            ],
          },
        ],
        nextCursor: expect.any(String),
      });
      const second = await getJson(app, `/presence/online?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body).toEqual({
        count: 3,
        items: [
          {
            uid: 'ann',
            appId: 'app-two',
            since: iso(T + 3 * S),
            sessions: [expect.objectContaining({ sessionId: 'x1' })],
          },
        ],
        nextCursor: null,
      });
      const two = await getJson(app, '/presence/online?appId=app-two');
      expect(two.body).toMatchObject({
        count: 1,
        items: [{ uid: 'ann', appId: 'app-two' }],
        nextCursor: null,
      });
      expect((await getJson(app, '/presence/online?appId=nobody')).body).toEqual({
        count: 0,
        items: [],
        nextCursor: null,
      });
    });
  });

  describe('appId', () => {
    beforeEach(() =>
      postAll(app, [
        legacy('dup', 'connected', 'one', T, ['one'], { connectedAt: T }),
        current('dup', 'connected', 'web', T + S, T + S, 'online', 'app-two'),
        current('dup', 'disconnected', 'web', T + S, T + 9 * S, 'offline', 'app-two'),
      ]),
    );

    it('is required when the uid exists in several apps', async () => {
      for (const path of ['presence', 'sessions']) {
        expect(await getJson(app, `/users/dup/${path}`)).toEqual({
          status: 400,
          body: {
            statusCode: 400,
            error: 'Bad Request',
            message: 'uid exists in several apps; pass appId',
            field: 'appId',
          },
        });
      }
    });

    it('keeps each app to its own events', async () => {
      expect((await getJson(app, `/users/dup/presence?appId=${APP}`)).body).toMatchObject({
        appId: APP,
        status: 'online',
        since: iso(T),
      });
      expect((await getJson(app, '/users/dup/presence?appId=app-two')).body).toMatchObject({
        appId: 'app-two',
        status: 'offline',
        since: iso(T + 9 * S),
        sessions: [],
      });
      expect(
        (await getJson(app, `/users/dup/sessions?appId=${APP}`)).body.items.map(
          (i: Body) => i.sessionId,
        ),
      ).toEqual(['one']);
      expect((await getJson(app, '/users/dup/sessions?appId=app-two')).body).toMatchObject({
        totalOnlineMs: 8_000,
      });
    });
  });

  describe('errors', () => {
    beforeEach(() => postAll(app, [legacy('oz', 'connected', 's1', T, ['s1'])]));

    it.each([
      ['/users/nobody/presence', 'uid "nobody" has no connection events'],
      ['/users/nobody/sessions', 'uid "nobody" has no connection events'],
      ['/users/oz/presence?appId=app-two', 'uid "oz" has no connection events in app "app-two"'],
    ])('%s answers 404', async (url, message) => {
      expect(await getJson(app, url)).toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message },
      });
    });

    it.each([
      ['/users/oz/sessions?from=yesterday', 'from'],
      ['/users/oz/sessions?to=2024-13-45', 'to'],
      [`/users/oz/sessions?from=${iso(T + S)}&to=${iso(T)}`, 'from'],
      ['/users/oz/sessions?limit=0', 'limit'],
      ['/users/oz/sessions?limit=501', 'limit'],
      ['/users/oz/sessions?cursor=nonsense', 'cursor'],
      ['/users/oz/presence?colour=blue', 'colour'],
      ['/presence/online?cursor=nonsense', 'cursor'],
      ['/presence/online?limit=abc', 'limit'],
    ])('%s answers 400 naming %s', async (url, field) => {
      const res = await getJson(app, url);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, field });
    });
  });

  describe('concurrent delivery', () => {
    /** A seeded PRNG so a failure can be replayed. */
    const rng = (seed: number) => () => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };

    interface Simulated {
      bodies: Body[];
      at: number[];
    }

    /**
     * 20 users, 10 events each, on up to three devices, interleaved in time; even users speak the
     * legacy format, odd ones the current one. About one disconnect in eight is lost (never sent).
     */
    function simulate(random: () => number): Simulated {
      const events: { at: number; body: Body }[] = [];
      for (let u = 0; u < 20; u++) {
        const uid = `user-${String(u).padStart(2, '0')}`;
        const isLegacy = u % 2 === 0;
        let at = T + Math.floor(random() * 30) * S;
        const open: { key: string; platform: string; connectedAt: number }[] = [];
        let sent = 0;
        let n = 0;
        while (sent < 10) {
          at += (1 + Math.floor(random() * 40)) * S;
          const connect = open.length === 0 || (open.length < 3 && random() < 0.55);
          if (connect) {
            const platform = ['web', 'ios', 'android'].find(
              (p) => !open.some((o) => o.platform === p),
            )!;
            const connectedAt = at - (isLegacy ? 30 : 0);
            const key = isLegacy ? `${uid}-s${n++}` : `${connectedAt}:${platform}`;
            open.push({ key, platform, connectedAt });
            const keys = open.map((o) => o.key);
            events.push({
              at,
              body: isLegacy
                ? legacy(uid, 'connected', key, at, keys, { connectedAt, platform })
                : current(uid, 'connected', platform, connectedAt, at, 'online'),
            });
            sent++;
          } else {
            const [gone] = open.splice(Math.floor(random() * open.length), 1);
            if (random() < 0.125) {
              continue;
            } // lost
            const keys = open.map((o) => o.key);
            events.push({
              at,
              body: isLegacy
                ? legacy(uid, 'disconnected', gone.key, at, keys, {
                    connectedAt: gone.connectedAt,
                    platform: gone.platform,
                  })
                : current(
                    uid,
                    'disconnected',
                    gone.platform,
                    gone.connectedAt,
                    at,
                    keys.length > 0 ? 'online' : 'offline',
                  ),
            });
            sent++;
          }
        }
      }
      events.sort((a, b) => a.at - b.at);
      return { bodies: events.map((e) => e.body), at: events.map((e) => e.at) };
    }

    const answers = async (target: NestFastifyApplication) => {
      const out: unknown[] = [];
      for (let u = 0; u < 20; u++) {
        const uid = `user-${String(u).padStart(2, '0')}`;
        out.push((await getJson(target, `/users/${uid}/presence`)).body);
        out.push((await getJson(target, `/users/${uid}/sessions?to=${iso(T + 3600 * S)}`)).body);
      }
      out.push((await getJson(target, '/presence/online?limit=500')).body);
      out.push(
        (
          await getJson(
            target,
            `/analytics/concurrency?interval=minute&from=${T}&to=${T + 20 * 60 * S}`,
          )
        ).body,
      );
      return out;
    };

    it('200 interleaved events for 20 users end in the same state posted concurrently in random order as posted serially', async () => {
      const { bodies } = simulate(rng(42));
      expect(bodies).toHaveLength(200);
      await postAll(app, bodies);
      const serial = await dump();
      const serialAnswers = await answers(app);
      expect(serial[0]).toHaveLength(20);
      expect(
        (serial[1] as { closed_by: string | null }[]).some((s) => s.closed_by === 'inferred'),
      ).toBe(true);

      // Two more instances on the same database, small batches and several writers each, so
      // transactions for the same user really do race.
      const env = { INGEST_MAX_BATCH: '3', INGEST_CONCURRENCY: '4' };
      const instances = [await startApp(env), await startApp(env)];
      try {
        for (const seed of [1, 2, 3]) {
          await resetDatabase();
          const random = rng(seed);
          const shuffled = bodies
            .map((body) => ({ body, key: random() }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.body);
          const results = await Promise.all(
            shuffled.map((body, i) => post(instances[i % 2], body)),
          );
          expect(results.map((r) => r.statusCode)).toEqual(shuffled.map(() => 200));
          expect(await dump()).toEqual(serial);
          expect(await answers(app)).toEqual(serialAnswers);
        }
      } finally {
        await Promise.all(instances.map((i) => i.close()));
      }
    });
  });
  describe('connections listed in a legacy connections[]', () => {
    const M = 60 * S;
    const wire = (session: string, connectedAt: number, platform = 'web') => ({
      session,
      connectedAt,
      platform,
      device: `dev-${session}`,
    });
    // s1 connects on the web and lists s2, an android connection we never saw connect; s2's own
    // connect (with its true connectedAt, later than the listed one) and disconnect come too.
    const listing = legacyConnection({
      uid: 'cat',
      type: 'connected',
      at: T,
      status: 'online',
      connection: wire('s1', T - 50),
      open: [wire('s1', T - 50), wire('s2', T - 5 * M, 'android')],
    });
    const connect = legacyConnection({
      uid: 'cat',
      type: 'connected',
      at: T - 4 * M,
      status: 'online',
      connection: wire('s2', T - 4 * M - 50, 'android'),
      open: [wire('s2', T - 4 * M - 50, 'android')],
    });
    const disconnect = legacyConnection({
      uid: 'cat',
      type: 'disconnected',
      at: T + 20 * S,
      status: 'online',
      connection: wire('s2', T - 4 * M - 50, 'android'),
      open: [wire('s1', T - 50)],
    });
    const s2 = {
      sessionId: 's2',
      deviceId: 'dev-s2',
      ...LEGACY_DETAIL,
      platform: 'android',
    };

    it('opens a listed connection as inferred, from its listed connectedAt, and presence counts it', async () => {
      await postAll(app, [listing]);
      expect((await getJson(app, '/users/cat/presence')).body).toMatchObject({
        status: 'online',
        since: iso(T - 5 * M),
        sessions: [
          { ...s2, openedBy: 'inferred', connectedAt: iso(T - 5 * M) },
          { sessionId: 's1', openedBy: 'event', connectedAt: iso(T - 50) },
        ],
      });
      // its disconnect closes it; being its own event, it also tells the connection's true start
      await postAll(app, [disconnect]);
      expect((await getJson(app, '/users/cat/sessions')).body.items).toEqual([
        expect.objectContaining({ sessionId: 's1', disconnectedAt: null }),
        {
          ...s2,
          openedBy: 'event',
          connectedAt: iso(T - 4 * M - 50),
          disconnectedAt: iso(T + 20 * S),
          durationMs: 4 * M + 50 + 20 * S,
          closedBy: 'event',
        },
      ]);
    });

    it('turns into openedBy event with the true time when its connect arrives', async () => {
      await postAll(app, [listing, connect]);
      expect((await getJson(app, '/users/cat/presence')).body).toMatchObject({
        since: iso(T - 4 * M),
        sessions: [
          { ...s2, openedBy: 'event', connectedAt: iso(T - 4 * M - 50) },
          { sessionId: 's1' },
        ],
      });
    });

    const permutations = <X>(xs: X[]): X[][] =>
      xs.length <= 1
        ? [xs]
        : xs.flatMap((x, i) =>
            permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]),
          );

    it('ends in the same state in every arrival order', async () => {
      const answers = async () => ({
        tables: await dump(),
        presence: (await getJson(app, '/users/cat/presence')).body,
        sessions: (await getJson(app, `/users/cat/sessions?to=${iso(T + M)}`)).body,
      });
      const orders = permutations([listing, connect, disconnect]);
      let first: Awaited<ReturnType<typeof answers>> | undefined;
      for (const order of orders) {
        await resetDatabase();
        await postAll(app, order);
        const state = await answers();
        first ??= state;
        expect(state).toEqual(first);
      }
      expect(first!.sessions.items).toEqual([
        expect.objectContaining({ sessionId: 's1', openedBy: 'event', disconnectedAt: null }),
        {
          ...s2,
          openedBy: 'event',
          connectedAt: iso(T - 4 * M - 50),
          disconnectedAt: iso(T + 20 * S),
          durationMs: 4 * M + 50 + 20 * S,
          closedBy: 'event',
        },
      ]);
    });

    it('filters sessions by platform, and refuses an empty one', async () => {
      await postAll(app, [listing, connect, disconnect]);
      const android = (await getJson(app, '/users/cat/sessions?platform=android')).body;
      expect(android.items.map((i: Body) => i.sessionId)).toEqual(['s2']);
      expect(android.totalOnlineMs).toBe(4 * M + 50 + 20 * S);
      expect((await getJson(app, '/users/cat/sessions?platform=ios')).body.items).toEqual([]);
      const empty = await getJson(app, '/users/cat/sessions?platform=');
      expect(empty.status).toBe(400);
      expect(JSON.stringify(empty.body)).toContain('platform');
      const doc = (await getJson(app, '/docs-json')).body;
      expect(doc.paths['/users/{uid}/sessions'].get.parameters).toContainEqual(
        expect.objectContaining({ name: 'platform', in: 'query', required: false }),
      );
    });
  });
});
