import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { currentSession, legacyConnection } from './factories';
import { clearOfHourBoundary } from './setup/clock';
import { resetDatabase, startApp } from './setup/test-app';
import { getJson, iso, post } from './setup/http';

type Body = Record<string, unknown>;

const D = Date.UTC(2024, 0, 1);
const H = 3_600_000;
const M = 60_000;
const at = (hours: number, minutes = 0) => D + hours * H + minutes * M;

/** A legacy session from `start` to `end` (open when end is null); `open` lists what stays open. */
function legacySession(
  uid: string,
  session: string,
  start: number,
  end: number | null,
  open: { atStart: string[]; atEnd: string[] },
  appId?: string,
): Body[] {
  const connection = { session, connectedAt: start };
  const list = (keys: string[]) => keys.map((k) => ({ session: k, connectedAt: start }));
  const events = [
    legacyConnection({
      uid,
      type: 'connected',
      at: start,
      status: 'online',
      connection,
      open: list(open.atStart),
      appId,
    }),
  ];
  if (end !== null) {
    events.push(
      legacyConnection({
        uid,
        type: 'disconnected',
        at: end,
        status: open.atEnd.length > 0 ? 'online' : 'offline',
        connection,
        open: list(open.atEnd),
        appId,
      }),
    );
  }
  return events;
}

/**
 * The timeline (UTC, 2024-01-01), app-one unless said:
 *   alice  web 01:30–03:30, ios 03:00–04:15    merged: 01:30–04:15
 *   bob    02:15–02:45, then 05:10–(still open)
 *   carol  02:30–05:00 (current format)
 *   erin   00:20–00:40
 *   dave   00:00–06:00 in app-two
 * Users online in app-one: 0 → 01:30 1 → 02:15 2 → 02:30 3 → 02:45 2 → 04:15 1 → 05:00 0 → 05:10 1
 */
const TIMELINE: Body[] = [
  ...legacySession('alice', 'a-web', at(1, 30), at(3, 30), {
    atStart: ['a-web'],
    atEnd: ['a-ios'],
  }),
  ...legacySession('alice', 'a-ios', at(3), at(4, 15), { atStart: ['a-web', 'a-ios'], atEnd: [] }),
  ...legacySession('bob', 'b1', at(2, 15), at(2, 45), { atStart: ['b1'], atEnd: [] }),
  ...legacySession('bob', 'b2', at(5, 10), null, { atStart: ['b2'], atEnd: [] }),
  ...currentSession('carol', 'ios', at(2, 30), at(5)),
  ...currentSession('erin', 'web', at(0, 20), at(0, 40)),
  ...currentSession('dave', 'android', at(0), at(6), 'app-two'),
];

const buckets = (stepMs: number, first: number, values: [number, number][]) =>
  values.map(([onlineAtEnd, peak], i) => ({
    start: iso(first + i * stepMs),
    end: iso(first + (i + 1) * stepMs),
    onlineAtEnd,
    peak,
  }));

describe('GET /analytics/concurrency', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    // shuffled: the answer must not depend on arrival order
    for (const body of [...TIMELINE].reverse()) {
      expect((await post(app, body)).statusCode).toBe(200);
    }
  });
  afterAll(() => app.close());

  it("counts users online at each hour end and the peak within, merging a user's devices", async () => {
    const res = await getJson(
      app,
      `/analytics/concurrency?appId=app-one&interval=hour&from=${iso(at(1))}&to=${iso(at(6))}`,
    );
    expect(res.body).toEqual({
      interval: 'hour',
      buckets: buckets(H, at(1), [
        [1, 1], // 01–02: alice from 01:30
        [2, 3], // 02–03: bob and carol join, bob leaves at 02:45
        [2, 2], // 03–04: alice's second device adds nobody
        [1, 2], // 04–05: alice leaves at 04:15
        [1, 1], // 05–06: carol leaves at 05:00 (0), bob back at 05:10
      ]),
    });
  });

  it('without appId counts every app, a user being an (app, uid) pair', async () => {
    const res = await getJson(
      app,
      `/analytics/concurrency?interval=hour&from=${iso(at(1))}&to=${iso(at(6))}`,
    );
    // dave (app-two) is online through the whole range; his 06:00 disconnect is after the last bucket
    expect(res.body.buckets).toEqual(
      buckets(H, at(1), [
        [2, 2],
        [3, 4],
        [3, 3],
        [2, 3],
        [2, 2],
      ]),
    );
  });

  it('rounds from down and to up to the interval, and accepts Unix times', async () => {
    const res = await getJson(
      app,
      `/analytics/concurrency?appId=app-one&from=${at(1, 30) / 1000}&to=${at(5, 30)}`,
    );
    expect(res.body.interval).toBe('hour');
    expect(res.body.buckets.map((b: Body) => [b.start, b.onlineAtEnd, b.peak])).toEqual([
      [iso(at(1)), 1, 1],
      [iso(at(2)), 2, 3],
      [iso(at(3)), 2, 2],
      [iso(at(4)), 1, 2],
      [iso(at(5)), 1, 1],
    ]);
  });

  it('minute and day buckets', async () => {
    const minutes = await getJson(
      app,
      `/analytics/concurrency?appId=app-one&interval=minute&from=${iso(at(2, 14))}&to=${iso(at(2, 17))}`,
    );
    expect(minutes.body).toEqual({
      interval: 'minute',
      buckets: buckets(M, at(2, 14), [
        [1, 1],
        [2, 2],
        [2, 2],
      ]),
    });

    const days = await getJson(
      app,
      `/analytics/concurrency?interval=day&from=${iso(D)}&to=${iso(D + 48 * H)}`,
    );
    // bob's second session is still open: online at the end of both days
    expect(days.body).toEqual({
      interval: 'day',
      buckets: buckets(24 * H, D, [
        [1, 4],
        [1, 1],
      ]),
    });
  });

  it('counts users still online up to now, and nobody in buckets after now', async () => {
    await clearOfHourBoundary();
    const now = Date.now();
    const hour = Math.floor(now / H) * H;
    const res = await getJson(
      app,
      `/analytics/concurrency?appId=app-one&from=${iso(hour - H)}&to=${iso(hour + 2 * H)}`,
    );
    expect(res.body.buckets).toEqual(
      buckets(H, hour - H, [
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
    );
  });

  it('defaults to the last 24 hours in hour buckets', async () => {
    await clearOfHourBoundary();
    const before = Date.now();
    const res = await getJson(app, '/analytics/concurrency?appId=app-one');
    const starts = res.body.buckets.map((b: Body) => Date.parse(b.start as string));
    expect(res.body.interval).toBe('hour');
    expect(starts.length).toBeGreaterThanOrEqual(24);
    expect(starts.length).toBeLessThanOrEqual(25);
    expect(starts[0]).toBeLessThanOrEqual(before - 24 * H);
    expect(starts.every((s: number, i: number) => i === 0 || s - starts[i - 1] === H)).toBe(true);
    expect(res.body.buckets.at(-1)).toMatchObject({ onlineAtEnd: 1, peak: 1 });
  });

  it('an app with no sessions answers zero buckets', async () => {
    const res = await getJson(
      app,
      `/analytics/concurrency?appId=nobody&from=${iso(at(1))}&to=${iso(at(3))}`,
    );
    expect(res.body.buckets).toEqual(
      buckets(H, at(1), [
        [0, 0],
        [0, 0],
      ]),
    );
  });

  it.each([
    ['interval=week', 'interval'],
    [`interval=minute&from=${iso(D)}&to=${iso(D + 48 * H)}`, 'interval'],
    [`interval=hour&from=${iso(D)}&to=${iso(D + 1001 * H)}`, 'interval'],
    [`from=${iso(at(2))}&to=${iso(at(1))}`, 'from'],
    [`from=${iso(at(2))}&to=${iso(at(2))}`, 'from'],
    ['from=yesterday', 'from'],
    ['to=soon', 'to'],
    ['appId=', 'appId'],
    ['colour=blue', 'colour'],
  ])('?%s answers 400 naming %s', async (query, field) => {
    const res = await getJson(app, `/analytics/concurrency?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, field });
  });

  it('accepts exactly 1000 buckets', async () => {
    const res = await getJson(
      app,
      `/analytics/concurrency?interval=hour&from=${iso(D)}&to=${iso(D + 1000 * H)}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.buckets).toHaveLength(1000);
  });
});
