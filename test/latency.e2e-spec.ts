import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  APP,
  afterMessage,
  currentReceipt,
  groupAggregate,
  legacyReceipt,
  messageEvent,
} from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { get, iso, postAcked } from './setup/http';

const OTHER_APP = 'app-two';
/** 2023-11-15T00:00:00Z: a day and hour boundary, so buckets are easy to reason about. */
const H = 1_700_006_400_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** percentile_cont: linear interpolation between the two nearest ranks. */
function percentile(sorted: number[], p: number): number {
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** What the endpoint must answer for these latencies, worked out here rather than by the service. */
function expected(latencies: number[], unmatched = 0) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const none = sorted.length === 0;
  const at = (p: number) => (none ? null : Math.round(percentile(sorted, p)));
  return {
    count: sorted.length,
    unmatched,
    meanMs: none ? null : Math.round(sorted.reduce((sum, x) => sum + x, 0) / sorted.length),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p95Ms: at(0.95),
    p99Ms: at(0.99),
    maxMs: none ? null : sorted[sorted.length - 1],
  };
}

/*
 * The hand-built conversation set. Every latency below is receipt time minus sentAt, by hand.
 *
 * app-one, alice <-> bob (conversation alice_user_bob):
 *   101 alice→bob @0        bob delivered @1 000 (explicit, 1 000)
 *                           bob read: implied by his read of 102 @65 000 (65 000)
 *   102 alice→bob @60 000   bob read @65 000 (explicit, 5 000); delivered implied by that read (5 000)
 *   103 bob→alice @120 000  alice read @122 000 (explicit, 2 000); delivered implied (2 000)
 *   104 alice→bob @180 000  bob delivered @180 500 (explicit, 500; plus two redeliveries)
 *                           bob read @3 700 000 (explicit, 3 520 000)
 *   105 bob→alice @7 200 000, arriving after its receipts:
 *                           alice delivered @7 201 500 (1 500), read @7 204 000 (4 000)
 * app-one, group "team":
 *   201 alice @600 000      carol delivered @600 800 (explicit, 800)
 *                           bob read: implied @703 000, then explicit @602 000 (2 000), which also
 *                           implies his delivery @602 000 (2 000)
 *   202 carol @700 000      bob read @703 000 (explicit, 3 000); delivered implied (3 000)
 *                           alice delivered @700 400 (explicit, 400), read @709 000 (explicit, 9 000)
 * app-one, alice <-> carol:
 *   302 carol→alice @10 860 000   alice read @10 861 000 (1 000); delivered implied (1 000)
 *   301 carol→alice @10 800 000, arriving last: inherits read and delivery @10 861 000 (61 000)
 * app-one, message 999 never arrives: carol read @7 300 000 (unmatched; its implied delivery too)
 * app-two: 101 alice→bob @0, bob read @30 000 (30 000; delivery implied 30 000)
 */
const READ = {
  m101: 65_000,
  m102: 5_000,
  m103: 2_000,
  m104: 3_520_000,
  m105: 4_000,
  g201: 2_000,
  g202bob: 3_000,
  g202alice: 9_000,
  c301: 61_000,
  c302: 1_000,
};
const DELIVERED = {
  m101: 1_000,
  m102: 5_000,
  m103: 2_000,
  m104: 500,
  m105: 1_500,
  g201carol: 800,
  g201bob: 2_000,
  g202bob: 3_000,
  g202alice: 400,
  c301: 61_000,
  c302: 1_000,
};
const OTHER_APP_READ = 30_000;

describe('GET /analytics/read-latency and /analytics/delivery-latency', () => {
  let app: NestFastifyApplication;

  const latency = async (
    kind: 'read' | 'delivery',
    params: Record<string, string | number | boolean> = {},
  ) => {
    const query = new URLSearchParams(
      Object.entries({ appId: APP, ...params }).map(([k, v]): [string, string] => [k, String(v)]),
    );
    const res = await get(app, `/analytics/${kind}-latency?${query.toString()}`);
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const receipt = (
    format: typeof legacyReceipt,
    messageId: string,
    reader: string,
    messageSender: string,
    kind: 'delivered' | 'read',
    offset: number,
    extra: { receiverType?: 'user' | 'group'; receiver?: string; appId?: string } = {},
  ) => postAcked(app, format({ messageId, reader, messageSender, kind, at: H + offset, ...extra }));
  const group = { receiverType: 'group' as const, receiver: 'team' };

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();

    await postAcked(app, afterMessage({ id: '101', sender: 'alice', receiver: 'bob', sentAt: H }));
    await postAcked(
      app,
      messageEvent('message_sent', {
        id: '102',
        sender: 'alice',
        receiver: 'bob',
        sentAt: H + 60_000,
      }),
    );
    await postAcked(
      app,
      afterMessage({ id: '103', sender: 'bob', receiver: 'alice', sentAt: H + 120_000 }),
    );
    await postAcked(
      app,
      messageEvent('message_sent', {
        id: '104',
        sender: 'alice',
        receiver: 'bob',
        sentAt: H + 180_000,
      }),
    );
    await receipt(legacyReceipt, '101', 'bob', 'alice', 'delivered', 1_000);
    await receipt(currentReceipt, '102', 'bob', 'alice', 'read', 65_000);
    await receipt(legacyReceipt, '103', 'alice', 'bob', 'read', 122_000);
    await receipt(legacyReceipt, '104', 'bob', 'alice', 'delivered', 180_500);
    // Redeliveries: the same bytes, and the same receipt (same time) in the other format.
    expect(
      (await receipt(legacyReceipt, '104', 'bob', 'alice', 'delivered', 180_500)).duplicate,
    ).toBe(true);
    expect(
      (await receipt(currentReceipt, '104', 'bob', 'alice', 'delivered', 180_500)).duplicate,
    ).toBe(true);
    await receipt(currentReceipt, '104', 'bob', 'alice', 'read', 3_700_000);

    const groupMessage = { receiver: 'team', receiverType: 'group' as const };
    await postAcked(
      app,
      messageEvent('message_sent', {
        id: '201',
        sender: 'alice',
        sentAt: H + 600_000,
        ...groupMessage,
      }),
    );
    await postAcked(
      app,
      afterMessage({ id: '202', sender: 'carol', sentAt: H + 700_000, ...groupMessage }),
    );
    await receipt(currentReceipt, '202', 'bob', 'carol', 'read', 703_000, group);
    await receipt(legacyReceipt, '201', 'carol', 'alice', 'delivered', 600_800, group);
    await receipt(legacyReceipt, '202', 'alice', 'carol', 'delivered', 700_400, group);
    await receipt(currentReceipt, '202', 'alice', 'carol', 'read', 709_000, group);
    await receipt(legacyReceipt, '201', 'bob', 'alice', 'read', 602_000, group);
    await postAcked(
      app,
      groupAggregate({ messageId: '202', group: 'team', kind: 'deliveredToAll', at: H + 703_000 }),
    );
    await postAcked(
      app,
      groupAggregate({ messageId: '202', group: 'team', kind: 'readByAll', at: H + 709_000 }),
    );

    await receipt(currentReceipt, '105', 'alice', 'bob', 'delivered', 7_201_500);
    await receipt(legacyReceipt, '105', 'alice', 'bob', 'read', 7_204_000);
    await postAcked(
      app,
      afterMessage({ id: '105', sender: 'bob', receiver: 'alice', sentAt: H + 7_200_000 }),
    );

    await receipt(legacyReceipt, '999', 'carol', 'dave', 'read', 7_300_000);

    await postAcked(
      app,
      afterMessage({ id: '302', sender: 'carol', receiver: 'alice', sentAt: H + 10_860_000 }),
    );
    await receipt(currentReceipt, '302', 'alice', 'carol', 'read', 10_861_000);
    await postAcked(
      app,
      afterMessage({ id: '301', sender: 'carol', receiver: 'alice', sentAt: H + 10_800_000 }),
    );

    await postAcked(
      app,
      afterMessage({ id: '101', sender: 'alice', receiver: 'bob', sentAt: H, appId: OTHER_APP }),
    );
    await receipt(legacyReceipt, '101', 'bob', 'alice', 'read', 30_000, { appId: OTHER_APP });
  });
  afterAll(() => app.close());

  it('checks its own percentile arithmetic on a small list', () => {
    // [2000, 3000, 9000]: p90 sits at rank 1.8, so 3000 + 0.8 × 6000.
    expect(expected([9_000, 2_000, 3_000])).toEqual({
      count: 3,
      unmatched: 0,
      meanMs: 4_667,
      p50Ms: 3_000,
      p90Ms: 7_800,
      p95Ms: 8_400,
      p99Ms: 8_880,
      maxMs: 9_000,
    });
  });

  it('answers read latency over one app: explicit and implied, unmatched counted apart', async () => {
    expect(await latency('read')).toEqual({
      ...expected(Object.values(READ), 1),
      approximate: false,
    });
  });

  it('answers delivery latency, with the deliveries that reads imply', async () => {
    // The unmatched one is the delivery implied by carol's read of message 999.
    expect(await latency('delivery')).toEqual({
      ...expected(Object.values(DELIVERED), 1),
      approximate: false,
    });
  });

  it('leaves implied receipts out with includeImplied=false', async () => {
    const { m102, m103, m104, m105, g201, g202bob, g202alice, c302 } = READ;
    expect(await latency('read', { includeImplied: 'false' })).toMatchObject(
      expected([m102, m103, m104, m105, g201, g202bob, g202alice, c302], 1),
    );
    const { m101, m104: d104, m105: d105, g201carol, g202alice: d202 } = DELIVERED;
    expect(await latency('delivery', { includeImplied: false })).toMatchObject(
      expected([m101, d104, d105, g201carol, d202], 0),
    );
    expect(await latency('read', { includeImplied: 'true' })).toMatchObject(
      expected(Object.values(READ), 1),
    );
  });

  it('keeps apps apart, and covers every app without appId', async () => {
    expect(await latency('read', { appId: OTHER_APP })).toMatchObject(expected([OTHER_APP_READ]));
    expect(await latency('delivery', { appId: OTHER_APP })).toMatchObject(
      expected([OTHER_APP_READ]),
    );
    const res = await get(app, '/analytics/read-latency');
    expect(res.json()).toMatchObject(expected([...Object.values(READ), OTHER_APP_READ], 1));
  });

  it('filters on receiverType', async () => {
    expect(await latency('read', { receiverType: 'group' })).toMatchObject(
      expected([READ.g201, READ.g202bob, READ.g202alice]),
    );
    const { m101, m102, m103, m104, m105, c301, c302 } = READ;
    // Message 999 is unknown, but its receipt said receiverType user.
    expect(await latency('read', { receiverType: 'user' })).toMatchObject(
      expected([m101, m102, m103, m104, m105, c301, c302], 1),
    );
  });

  it('filters on conversationId', async () => {
    const { m101, m102, m103, m104, m105 } = READ;
    expect(await latency('read', { conversationId: 'alice_user_bob' })).toMatchObject(
      expected([m101, m102, m103, m104, m105]),
    );
    expect(await latency('delivery', { conversationId: 'group_team' })).toMatchObject(
      expected([DELIVERED.g201carol, DELIVERED.g201bob, DELIVERED.g202bob, DELIVERED.g202alice]),
    );
  });

  it('filters on the message sender, from the message or else from the receipt', async () => {
    expect(await latency('read', { sender: 'carol' })).toMatchObject(
      expected([READ.g202bob, READ.g202alice, READ.c301, READ.c302]),
    );
    expect(await latency('read', { sender: 'dave' })).toEqual({
      count: 0,
      unmatched: 1,
      meanMs: null,
      p50Ms: null,
      p90Ms: null,
      p95Ms: null,
      p99Ms: null,
      maxMs: null,
      approximate: false,
    });
  });

  it('filters on the reader', async () => {
    expect(await latency('read', { reader: 'alice' })).toMatchObject(
      expected([READ.m103, READ.g202alice, READ.m105, READ.c301, READ.c302]),
    );
    expect(await latency('delivery', { reader: 'bob' })).toMatchObject(
      expected([
        DELIVERED.m101,
        DELIVERED.m102,
        DELIVERED.m104,
        DELIVERED.g201bob,
        DELIVERED.g202bob,
      ]),
    );
  });

  it('filters on receipt time: from inclusive, to exclusive, ISO or Unix', async () => {
    expect(await latency('read', { from: iso(H + HOUR), to: iso(H + 3 * HOUR) })).toMatchObject(
      expected([READ.m104, READ.m105], 1),
    );
    // Bob's read of 104 is exactly at 3 700 000: `to` there leaves it out, `from` there keeps it.
    expect(await latency('read', { from: H / 1000, to: H + 3_700_000 })).toMatchObject(
      expected([READ.m101, READ.m102, READ.m103, READ.g201, READ.g202bob, READ.g202alice]),
    );
    expect(
      await latency('read', { from: iso(H + 3_700_000), to: iso(H + 3_700_001) }),
    ).toMatchObject(expected([READ.m104]));
  });

  it('combines filters', async () => {
    expect(
      await latency('read', {
        reader: 'bob',
        receiverType: 'user',
        includeImplied: 'false',
        to: iso(H + HOUR),
      }),
    ).toMatchObject(expected([READ.m102]));
  });

  it('adds an hourly series, empty hours included', async () => {
    const body = await latency('read', {
      interval: 'hour',
      from: iso(H - HOUR),
      to: iso(H + 4 * HOUR),
    });
    const { m101, m102, m103, m104, m105, g201, g202bob, g202alice, c301, c302 } = READ;
    expect(body).toEqual({
      ...expected(Object.values(READ), 1),
      approximate: false,
      series: [
        { start: iso(H - HOUR), ...expected([]) },
        { start: iso(H), ...expected([m101, m102, m103, g201, g202bob, g202alice]) },
        { start: iso(H + HOUR), ...expected([m104]) },
        { start: iso(H + 2 * HOUR), ...expected([m105], 1) },
        { start: iso(H + 3 * HOUR), ...expected([c301, c302]) },
      ],
    });
  });

  it('takes the series window from the data when from and to are not given', async () => {
    const body = await latency('delivery', { interval: 'hour', includeImplied: 'false' });
    expect(body.series).toEqual([
      {
        start: iso(H),
        ...expected([DELIVERED.m101, DELIVERED.m104, DELIVERED.g201carol, DELIVERED.g202alice]),
      },
      { start: iso(H + HOUR), ...expected([]) },
      { start: iso(H + 2 * HOUR), ...expected([DELIVERED.m105]) },
    ]);
    expect((await latency('read', { interval: 'day', sender: 'nobody' })).series).toEqual([]);
  });

  it('adds a daily series on UTC days', async () => {
    const body = await latency('read', {
      interval: 'day',
      from: iso(H - DAY + 1),
      to: iso(H + DAY),
    });
    expect(body.series).toEqual([
      { start: iso(H - DAY), ...expected([]) },
      { start: iso(H), ...expected(Object.values(READ), 1) },
    ]);
  });

  it('caps the series at 2000 buckets', async () => {
    const most = await latency('read', {
      interval: 'hour',
      from: iso(H),
      to: iso(H + 2000 * HOUR),
    });
    expect(most.series).toHaveLength(2000);
    const res = await get(
      app,
      `/analytics/read-latency?interval=hour&from=${iso(H)}&to=${iso(H + 2001 * HOUR)}`,
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, field: 'interval' });
  });

  it.each([
    ['from=yesterday', 'from'],
    ['to=2023-13-45T00:00:00Z', 'to'],
    [`from=${iso(H + HOUR)}&to=${iso(H)}`, 'from'],
    ['receiverType=channel', 'receiverType'],
    ['includeImplied=maybe', 'includeImplied'],
    ['interval=week', 'interval'],
    ['conversationId=', 'conversationId'],
    ['appId=', 'appId'],
    ['percentile=99', 'percentile'],
  ])('answers 400 naming the parameter for %s', async (query, field) => {
    for (const kind of ['read', 'delivery']) {
      const res = await get(app, `/analytics/${kind}-latency?${query}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, field });
      expect(res.json().message).toEqual(expect.stringContaining(field));
    }
  });
});
