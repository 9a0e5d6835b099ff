import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterMessage, currentConnection, legacyReceipt } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { get, iso, postAll } from './setup/http';

// Whole hours in the past, so "now" never clips a range under test.
const T0 = Date.parse('2026-11-20T10:00:00Z');
const T1 = Date.parse('2026-11-20T11:00:00Z');
const HOUR = 3_600_000;
const seconds = (ms: number) => ms / 1000;

describe('query conventions', () => {
  let app: NestFastifyApplication;
  const session = (uid: string, from: number, to: number | null, appId?: string) => [
    currentConnection({
      uid,
      action: 'connected',
      at: from,
      status: 'online',
      connectedAt: from,
      appId,
    }),
    ...(to === null
      ? []
      : [
          currentConnection({
            uid,
            action: 'disconnected',
            at: to,
            status: 'offline',
            connectedAt: from,
            appId,
          }),
        ]),
  ];

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  const TIMED_ROUTES = [
    '/events',
    '/users/alice/sessions',
    '/analytics/read-latency',
    '/analytics/delivery-latency',
    '/analytics/concurrency',
    '/analytics/conversations',
  ];

  describe('query times are parsed strictly', () => {
    it.each([
      '2026-02-30',
      '2026-02-29T00:00:00Z',
      '2026-01-01 junk',
      '2026-01-01T24:00:00Z',
      '2026-01-01T12:60:00Z',
      '2026-01-01T12:00:60Z',
      '2026-13-01',
      '2026-1-01',
      '2026-01-01T12:00:00+25:00',
      'Tue, 01 Jan 2026 00:00:00 GMT',
      '0000-12-31T23:59:59Z',
      '10000-01-01',
      '-1',
      '1e12',
      '99999999999999999999',
    ])('%p: 400 naming the field, on every route with times', async (value) => {
      await postAll(app, session('alice', T0, T1));
      for (const route of TIMED_ROUTES) {
        for (const field of ['from', 'to']) {
          const res = await get(app, `${route}?${field}=${encodeURIComponent(value)}`);
          expect({ route, field, status: res.statusCode }).toEqual({ route, field, status: 400 });
          expect(res.json()).toMatchObject({ field });
        }
      }
    });

    it.each([
      ['2026-11-20', T0 - 10 * HOUR],
      ['2026-11-20T10:00Z', T0],
      ['2026-11-20T10:00:00.000Z', T0],
      ['2026-11-20 12:00:00+02:00', T0],
      ['2026-11-20T05:30:00-0430', T0],
      ['2026-11-20T10:00:00', T0],
      [String(seconds(T0)), T0],
      [String(T0), T0],
      ['2024-02-29T10:00:00Z', Date.parse('2024-02-29T10:00:00Z')],
    ])('%p is read as %p', async (value, ms) => {
      const res = await get(
        app,
        `/analytics/conversations?from=${encodeURIComponent(value)}&to=${iso(ms + HOUR)}`,
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ from: iso(ms) });
    });
  });

  describe('an effective range outside PostgreSQL answers 400 naming the field', () => {
    it.each([
      ['/analytics/concurrency?to=0001-01-01T00:30:00Z&interval=hour', 'to'],
      ['/analytics/concurrency?to=0001-01-01T00:00:00Z&interval=minute', 'to'],
      ['/analytics/conversations?to=0001-01-01T00:00:00Z', 'to'],
      ['/analytics/conversations?to=0001-01-01T23:59:59Z', 'to'],
    ])('%s', async (url, field) => {
      const res = await get(app, url);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ field });
    });

    it('the edges themselves are fine, on every route', async () => {
      await postAll(app, session('alice', T0, T1));
      expect(
        (await get(app, '/analytics/concurrency?from=0001-01-01T00:00:00Z&to=0001-01-01T02:00:00Z'))
          .statusCode,
      ).toBe(200);
      expect((await get(app, '/analytics/conversations?to=0001-01-02T00:00:00Z')).statusCode).toBe(
        200,
      );
      const edges = [
        'to=0001-01-01T00:00:00Z',
        'to=0001-01-01T00:30:00Z',
        'from=0001-01-01T00:00:00Z&to=0001-01-01T00:00:01Z',
        'from=9999-12-31T00:00:00Z',
        'from=9999-12-30T00:00:00Z&to=9999-12-31T00:00:00Z',
      ];
      for (const route of TIMED_ROUTES) {
        for (const edge of edges) {
          for (const interval of ['', '&interval=day', '&interval=hour']) {
            const url = `${route}?${edge}${interval}`;
            const res = await get(app, url);
            expect({ url, status: res.statusCode }).toEqual({
              url,
              status: res.statusCode === 400 ? 400 : 200,
            });
            expect(res.body).not.toMatch(/postgres|timestamp|SQLSTATE|syntax/i);
          }
        }
      }
    });
  });

  describe('every time range is half-open [from, to)', () => {
    const range = `from=${iso(T0)}&to=${iso(T1)}`;

    it('events: one at from is in, one at to is out', async () => {
      await postAll(app, [
        afterMessage({ id: 'at-from', sender: 'a', receiver: 'b', sentAt: seconds(T0) }),
        afterMessage({ id: 'at-to', sender: 'a', receiver: 'b', sentAt: seconds(T1) }),
        afterMessage({ id: 'before', sender: 'a', receiver: 'b', sentAt: seconds(T0) - 1 }),
      ]);
      const res = await get(app, `/events?${range}`);
      expect(res.json().items.map((e: { eventAt: string }) => e.eventAt)).toEqual([iso(T0)]);
    });

    it('sessions: one ending at from and one starting at to are out', async () => {
      await postAll(app, [
        ...session('alice', T0 - HOUR, T0),
        ...session('alice', T0 + 600_000, T0 + 1_200_000),
        ...session('alice', T1, T1 + HOUR),
        ...session('alice', T0 - 600_000, T0 + 600_000),
      ]);
      const res = await get(app, `/users/alice/sessions?${range}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.items.map((s: { connectedAt: string }) => s.connectedAt)).toEqual([
        iso(T0 + 600_000),
        iso(T0 - 600_000),
      ]);
      expect(body.totalOnlineMs).toBe(1_200_000);
    });

    it('latency: a receipt at from counts, one at to does not', async () => {
      await postAll(app, [
        afterMessage({ id: 'm1', sender: 'alice', receiver: 'bob', sentAt: seconds(T0) - 10 }),
        afterMessage({ id: 'm2', sender: 'alice', receiver: 'carol', sentAt: seconds(T1) - 20 }),
        legacyReceipt({
          messageId: 'm1',
          kind: 'read',
          reader: 'bob',
          messageSender: 'alice',
          at: seconds(T0),
        }),
        legacyReceipt({
          messageId: 'm2',
          kind: 'read',
          reader: 'carol',
          messageSender: 'alice',
          at: seconds(T1),
        }),
      ]);
      const res = await get(app, `/analytics/read-latency?${range}`);
      expect(res.json()).toMatchObject({ count: 1, maxMs: 10_000 });
      const hourly = await get(app, `/analytics/read-latency?${range}&interval=hour`);
      expect(hourly.json().series).toEqual([expect.objectContaining({ count: 1 })]);
    });

    it('conversations: a message sent at from counts, one sent at to does not', async () => {
      await postAll(app, [
        afterMessage({ id: 'at-from', sender: 'a', receiver: 'b', sentAt: seconds(T0) }),
        afterMessage({ id: 'at-to', sender: 'a', receiver: 'b', sentAt: seconds(T1) }),
      ]);
      const res = await get(app, `/analytics/conversations?${range}`);
      expect(res.json().items).toEqual([expect.objectContaining({ messages: 1 })]);
    });

    it('concurrency: onlineAtEnd counts a session ending exactly at the end, not one starting there', async () => {
      await postAll(app, [
        ...session('ends', T0 + 1_800_000, T1),
        ...session('starts', T1, T1 + 600_000),
      ]);
      const res = await get(app, `/analytics/concurrency?from=${iso(T0)}&to=${iso(T1 + HOUR)}`);
      expect(res.json().buckets).toEqual([
        { start: iso(T0), end: iso(T1), onlineAtEnd: 1, peak: 1 },
        { start: iso(T1), end: iso(T1 + HOUR), onlineAtEnd: 0, peak: 1 },
      ]);
      // A range ending exactly at a bucket edge has no bucket past it.
      const aligned = await get(app, `/analytics/concurrency?${range}`);
      expect(aligned.json().buckets).toHaveLength(1);
    });
  });

  it('a receipt before the message was sent (clock skew) has latency 0, not negative', async () => {
    await postAll(app, [
      afterMessage({ id: 'm', sender: 'alice', receiver: 'bob', sentAt: seconds(T0) }),
      legacyReceipt({
        messageId: 'm',
        kind: 'read',
        reader: 'bob',
        messageSender: 'alice',
        at: seconds(T0) - 5,
      }),
    ]);
    const receipts = await get(app, '/messages/m/receipts');
    expect(receipts.json().read).toEqual([expect.objectContaining({ uid: 'bob', latencyMs: 0 })]);
    const stats = await get(app, `/analytics/read-latency?from=${iso(T0 - HOUR)}&to=${iso(T1)}`);
    expect(stats.json()).toMatchObject({ count: 1, meanMs: 0, maxMs: 0 });
  });

  describe('without appId, an id known in several apps is a 400 that names no app', () => {
    beforeEach(() =>
      postAll(app, [
        afterMessage({ id: 'shared', sender: 'alice', receiver: 'bob', appId: 'secret-app-1' }),
        afterMessage({ id: 'shared', sender: 'alice', receiver: 'bob', appId: 'secret-app-2' }),
        ...session('alice', T0, T1, 'secret-app-1'),
        ...session('alice', T0, T1, 'secret-app-2'),
      ]),
    );

    it.each(['/messages/shared/receipts', '/users/alice/presence', '/users/alice/sessions'])(
      '%s',
      async (url) => {
        const res = await get(app, url);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ field: 'appId' });
        expect(res.body).not.toMatch(/secret-app/);
        expect((await get(app, `${url}?appId=secret-app-2`)).statusCode).toBe(200);
      },
    );
  });
});
