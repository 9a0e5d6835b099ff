import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  afterMessage,
  currentConnection,
  currentReceipt,
  legacyConnection,
  legacyReceipt,
} from './factories';
import {
  COMMON_PARAMS,
  QUERY_PARAMS,
  Route,
  fillPath,
  requiredParams,
  isPublicRoute,
  startAppListingRoutes,
} from './setup/routes';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { get, isoSeconds, post } from './setup/http';

const KEY = 'security-spec-api-key';
const USER = 'cometchat';
const PASSWORD = 'webhook-secret';
const BEARER = { authorization: `Bearer ${KEY}` };
const BASIC = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const WEBHOOK_AUTH = { authorization: BASIC(`${USER}:${PASSWORD}`) };

const ALPHA = 'app-alpha';
const BETA = 'app-beta';
// Recent, so that windows with defaults (concurrency, conversations) see the data.
const T = Math.floor(Date.now() / 1000) - 1800;

/** Path parameters that exist in both apps: the isolation checks ask about the same ids. */
const PATH_VALUES = { uid: 'alice', id: 'm-shared' };

const TABLES = [
  'webhook_events',
  'rejected_events',
  'messages',
  'receipts',
  'group_receipts',
  'connection_events',
  'sessions',
  'presence',
];

async function tableCounts(): Promise<Record<string, number>> {
  const [row] = await rows<Record<string, number>>(
    `SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`,
  );
  return row;
}

describe('strangers', () => {
  let app: NestFastifyApplication;
  let routes: Route[];
  let queryRoutes: Route[];

  /** The same ids in two apps, with details (sessions, platforms, times) that differ. */
  async function seed(appId: string, marker: string, offset: number): Promise<void> {
    const bodies = [
      afterMessage({ appId, id: 'm-shared', sender: 'alice', receiver: 'bob', sentAt: T + offset }),
      // alice's reply, unread: she has unread counts to ask about.
      afterMessage({
        appId,
        id: 'm-reply',
        sender: 'bob',
        receiver: 'alice',
        sentAt: T + offset + 90,
      }),
      legacyReceipt({
        appId,
        messageId: 'm-shared',
        reader: 'bob',
        messageSender: 'alice',
        kind: 'delivered',
        at: T + offset + 5,
      }),
      currentReceipt({
        appId,
        messageId: 'm-shared',
        reader: 'bob',
        messageSender: 'alice',
        kind: 'read',
        at: T + offset + 60,
      }),
      legacyConnection({
        appId,
        uid: 'alice',
        type: 'connected',
        at: (T + offset) * 1000,
        status: 'online',
        connection: {
          session: `${marker}-session`,
          device: `${marker}-device`,
          platform: `${marker}-platform`,
          connectedAt: (T + offset) * 1000,
        },
      }),
      currentConnection({
        appId,
        uid: 'bob',
        action: 'connected',
        at: (T + offset) * 1000,
        status: 'online',
        connectedAt: (T + offset) * 1000,
        platform: `${marker}-platform`,
      }),
    ];
    for (const body of bodies) {
      expect((await post(app, body, WEBHOOK_AUTH)).statusCode).toBe(200);
    }
    expect(
      (await post(app, { trigger: 'after_message', appId, data: { id: marker } }, WEBHOOK_AUTH))
        .statusCode,
    ).toBe(400);
  }

  beforeAll(async () => {
    ({ app, routes } = await startAppListingRoutes({
      API_KEY: KEY,
      WEBHOOK_USERNAME: USER,
      WEBHOOK_PASSWORD: PASSWORD,
    }));
    queryRoutes = routes.filter((r) => r.method === 'GET' && !isPublicRoute(r));
    await resetDatabase();
    await seed(ALPHA, 'alpha', 0);
    await seed(BETA, 'beta', 100);
  });
  afterAll(() => app?.close());

  it('finds the query routes it is about to check', () => {
    expect(queryRoutes.map((r) => r.url)).toEqual(
      expect.arrayContaining(Object.keys(QUERY_PARAMS)),
    );
  });

  describe('webhook credentials', () => {
    it.each([
      ['no Authorization', {}],
      ['a wrong password', { authorization: BASIC(`${USER}:not-it`) }],
      ['a wrong user', { authorization: BASIC(`someone:${PASSWORD}`) }],
      ['the password alone', { authorization: BASIC(PASSWORD) }],
      ['extra text after the password', { authorization: BASIC(`${USER}:${PASSWORD}x`) }],
      ['an empty Basic', { authorization: 'Basic ' }],
      ['not base64', { authorization: 'Basic !!!!' }],
      ['the API key as Bearer', BEARER],
      [
        'another scheme',
        { authorization: `Digest ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
      ],
    ])('with %s: 401 and nothing stored, not even a rejected body', async (_, headers) => {
      const before = await tableCounts();
      const good = await post(
        app,
        afterMessage({ id: 'stranger', sender: 'x', receiver: 'y' }),
        headers,
      );
      const bad = await post(app, '{"not": "usable"', headers);
      for (const res of [good, bad]) {
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Basic realm="webhooks"');
        expect(res.body).not.toContain('eventId');
      }
      expect(await tableCounts()).toEqual(before);
    });
  });

  describe('API key', () => {
    it.each([
      ['no key', {}],
      ['a wrong key', { authorization: 'Bearer wrong-key-0123456789' }],
      ['the key with a suffix', { authorization: `Bearer ${KEY}x` }],
      ['a prefix of the key', { authorization: `Bearer ${KEY.slice(0, -1)}` }],
      ['the key as Basic', { authorization: BASIC(KEY) }],
      ['the key without a scheme', { authorization: KEY }],
      ['the key in another header', { 'x-api-key': KEY }],
    ])('every query route refuses %s (GET and HEAD)', async (_, headers) => {
      for (const route of queryRoutes) {
        const url = `${fillPath(route.url, PATH_VALUES)}?appId=${ALPHA}`;
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await app.inject({ method, url, headers });
          expect({ url, method, status: res.statusCode }).toEqual({ url, method, status: 401 });
          expect(res.body).not.toMatch(/alice|bob|m-shared/);
        }
      }
    });

    it('every query route answers with the key', async () => {
      for (const route of queryRoutes) {
        const url = `${fillPath(route.url, PATH_VALUES)}?appId=${ALPHA}${requiredParams(route.url)}`;
        expect({ url, status: (await get(app, url, BEARER)).statusCode }).toEqual({
          url,
          status: 200,
        });
      }
    });

    it('public routes are only the ones meant to be', () => {
      const open = routes.filter((r) => r.method === 'GET' && isPublicRoute(r)).map((r) => r.url);
      for (const url of open) {
        expect(url).toMatch(/^\/(health|health\/live|metrics|docs.*|dashboard\/.+|)$/);
      }
    });
  });

  describe('apps', () => {
    it.each([ALPHA, BETA])(
      'every query route asked about %s answers with its data only',
      async (appId) => {
        const other = appId === ALPHA ? 'beta' : 'alpha';
        const mine = appId === ALPHA ? 'alpha' : 'beta';
        for (const route of queryRoutes) {
          const url = `${fillPath(route.url, PATH_VALUES)}?appId=${appId}${requiredParams(route.url)}`;
          const res = await get(app, url, BEARER);
          expect({ url, status: res.statusCode }).toEqual({ url, status: 200 });
          expect({ url, leaked: res.body.includes(other) }).toEqual({ url, leaked: false });
        }
        // And they do answer with that app's data, so the absence above means something.
        expect((await get(app, `/users/alice/presence?appId=${appId}`, BEARER)).body).toContain(
          `${mine}-session`,
        );
        expect((await get(app, `/users/alice/sessions?appId=${appId}`, BEARER)).body).toContain(
          `${mine}-device`,
        );
        expect(
          (await get(app, `/events/rejected?appId=${appId}`, BEARER)).json().items,
        ).toHaveLength(1);
        const events = (await get(app, `/events?appId=${appId}`, BEARER)).json().items as {
          appId: string;
        }[];
        expect(events).toHaveLength(6);
        expect(new Set(events.map((e) => e.appId))).toEqual(new Set([appId]));
        const offset = appId === ALPHA ? 0 : 100;
        expect((await get(app, `/users/alice/unread?appId=${appId}`, BEARER)).json()).toMatchObject(
          { appId, total: 1, items: [{ oldestUnreadSentAt: isoSeconds(T + offset + 90) }] },
        );
        const receipts = (
          await get(app, `/messages/m-shared/receipts?appId=${appId}`, BEARER)
        ).json();
        expect(receipts).toMatchObject({ appId, read: [{ uid: 'bob', latencyMs: 60_000 }] });
        const online = (await get(app, `/presence/online?appId=${appId}`, BEARER)).json();
        expect(online.count).toBe(2);
        const latency = (await get(app, `/analytics/read-latency?appId=${appId}`, BEARER)).json();
        expect(latency).toMatchObject({ count: 1, maxMs: 60_000 });
      },
    );

    it('without appId, an id known in both apps is not answered from either', async () => {
      for (const url of ['/users/alice/presence', '/messages/m-shared/receipts']) {
        const res = await get(app, url, BEARER);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ field: 'appId' });
      }
    });
  });

  describe('SQL injection', () => {
    const ATTEMPTS = [
      "' OR '1'='1",
      "app-alpha' OR '1'='1' --",
      "'; DROP TABLE webhook_events; --",
      "'; UPDATE presence SET status = 'offline'; --",
      '1; SELECT pg_sleep(3)',
      "' UNION SELECT body::text, NULL FROM webhook_events --",
      "alice') OR ('1'='1",
      '" OR ""="',
      '\\',
      '%',
      '*',
    ];

    /**
     * `platform` on /analytics/active-users adds a breakdown and leaves the totals as they are:
     * only the breakdown answers the injected value (less the platform name, which it echoes).
     */
    function breakdownOnly(url: string, body: unknown): unknown {
      if (!/^\/analytics\/active-users\?.*&platform=/.test(url)) {
        return body;
      }
      const answer = body as {
        buckets: { platforms: unknown[] }[];
        stickiness: { platforms: unknown[] };
      };
      const counts = [answer.buckets.map((b) => b.platforms), answer.stickiness.platforms];
      return JSON.parse(
        JSON.stringify(counts, (k, v: unknown) => (k === 'platform' ? undefined : v)),
      );
    }

    /** A 200 that answers an injection must hold nothing seeded: no ids, nothing counted. */
    function assertEmpty(url: string, body: unknown): void {
      const text = JSON.stringify(body);
      expect({ url, text }).toEqual({
        url,
        text: expect.not.stringMatching(/alice|bob|m-shared|alpha|beta/),
      });
      const counted = JSON.stringify(body, (key, value: unknown) =>
        /^(count|peak|onlineAtEnd|online|messages|senders|totalOnlineMs|unmatched|userDays|distinct|total|unread)$/.test(
          key,
        ) && value !== 0
          ? `NON-ZERO ${key}`
          : value,
      );
      expect({ url, counted }).toEqual({ url, counted: expect.not.stringContaining('NON-ZERO') });
    }

    it('in every parameter of every query route, is harmless: 400, 404 or an empty 200', async () => {
      const before = await tableCounts();
      const tables = await rows(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
      );
      let tried = 0;
      for (const route of queryRoutes) {
        const names = QUERY_PARAMS[route.url] ?? COMMON_PARAMS;
        const pathNames = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
        for (const attempt of ATTEMPTS) {
          const urls = [
            ...names.map(
              (name) =>
                `${fillPath(route.url, PATH_VALUES)}?appId=${ALPHA}&${name}=${encodeURIComponent(attempt)}`,
            ),
            ...pathNames.map(
              (name) =>
                `${fillPath(route.url, { ...PATH_VALUES, [name]: attempt })}?appId=${ALPHA}`,
            ),
          ];
          for (const url of urls) {
            tried++;
            const started = Date.now();
            const res = await get(app, url, BEARER);
            expect({ url, status: [200, 400, 404].includes(res.statusCode) }).toEqual({
              url,
              status: true,
            });
            expect(Date.now() - started).toBeLessThan(2500);
            if (res.statusCode === 200) {
              assertEmpty(url, breakdownOnly(url, res.json()));
            }
          }
        }
      }
      console.log(`SQL injection attempts: ${tried} over ${queryRoutes.length} query routes`);
      expect(await tableCounts()).toEqual(before);
      expect(
        await rows(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`),
      ).toEqual(tables);
      expect((await get(app, `/users/alice/presence?appId=${ALPHA}`, BEARER)).json().status).toBe(
        'online',
      );
    });
  });

  describe('headers', () => {
    it("sends Helmet's default headers on every query, docs and dashboard route", async () => {
      const browsable = routes.filter((r) => r.method === 'GET');
      expect(browsable.length).toBeGreaterThan(queryRoutes.length);
      for (const route of browsable) {
        const url = fillPath(route.url, PATH_VALUES);
        const res = await get(app, `${url}${url.includes('?') ? '&' : '?'}appId=${ALPHA}`, BEARER);
        expect({ url, headers: res.headers }).toMatchObject({
          url,
          headers: {
            'content-security-policy': expect.stringContaining("default-src 'self'"),
            'strict-transport-security': expect.stringContaining('max-age='),
            'x-content-type-options': 'nosniff',
            'x-frame-options': 'SAMEORIGIN',
            'referrer-policy': 'no-referrer',
            'cross-origin-opener-policy': 'same-origin',
            'cross-origin-resource-policy': 'same-origin',
            'x-dns-prefetch-control': 'off',
            'x-permitted-cross-domain-policies': 'none',
          },
        });
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });
  });
});

describe('rate limit', () => {
  let app: NestFastifyApplication;
  const from = (remoteAddress: string, url: string, method: 'GET' | 'POST' = 'GET') =>
    app.inject({
      method,
      url,
      remoteAddress,
      ...(method === 'POST'
        ? {
            headers: { 'content-type': 'application/json' },
            payload: afterMessage({ id: `rl-${Math.random()}`, sender: 'a', receiver: 'b' }),
          }
        : {}),
    });

  afterEach(() => app?.close());

  it('is off by default', async () => {
    app = await startApp();
    for (let i = 0; i < 20; i++) {
      const res = await from('10.0.0.1', '/events?limit=1');
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('answers 429 past RATE_LIMIT_MAX queries per window from one address, and only to it', async () => {
    app = await startApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    await resetDatabase();
    for (const remaining of ['2', '1', '0']) {
      const res = await from('10.0.0.1', '/events');
      expect(res.statusCode).toBe(200);
      expect(res.headers).toMatchObject({
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': remaining,
      });
    }
    for (const url of ['/events', '/presence/online']) {
      const limited = await from('10.0.0.1', url);
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json()).toMatchObject({ statusCode: 429 });
    }
    expect((await from('10.0.0.2', '/events')).statusCode).toBe(200);
  });

  it('never limits the webhook, health checks or metrics', async () => {
    app = await startApp({ RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000' });
    for (let i = 0; i < 10; i++) {
      const webhook = await from('10.0.0.9', '/webhooks/cometchat', 'POST');
      expect(webhook.statusCode).toBe(200);
      expect(webhook.headers['x-ratelimit-limit']).toBeUndefined();
      expect((await from('10.0.0.9', '/health')).statusCode).toBe(200);
      expect((await from('10.0.0.9', '/health/live')).statusCode).toBe(200);
      expect((await from('10.0.0.9', '/metrics')).statusCode).toBe(200);
    }
    expect((await from('10.0.0.9', '/events')).statusCode).toBe(200);
    expect((await from('10.0.0.9', '/events')).statusCode).toBe(429);
  });
});
