import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  APP,
  afterMessage,
  currentReceipt,
  groupAggregate,
  legacyReceipt,
  messageEvent,
} from './factories';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { iso, post, postAcked } from './setup/http';

const T = 1_700_000_000_000; // ms
const OTHER_APP = 'app-two';

type Kind = 'delivered' | 'read';
interface Entry {
  uid: string;
  at: string;
  latencyMs: number | null;
  implied: boolean;
}
const entry = (uid: string, at: number, sentAt: number | null, implied = false): Entry => ({
  uid,
  at: iso(at),
  latencyMs: sentAt === null ? null : at - sentAt,
  implied,
});

describe('GET /messages/:id/receipts', () => {
  let app: NestFastifyApplication;

  const receipts = async (id: string, appId: string | null = APP) => {
    const res = await app.inject({
      method: 'GET',
      url: `/messages/${id}/receipts${appId === null ? '' : `?appId=${appId}`}`,
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const userMessage = (id: string, sender: string, receiver: string, sentAt: number, appId = APP) =>
    postAcked(app, afterMessage({ id, sender, receiver, sentAt, appId }));
  const read = (
    messageId: string,
    reader: string,
    messageSender: string,
    at: number,
    appId = APP,
  ) =>
    postAcked(app, currentReceipt({ messageId, reader, messageSender, kind: 'read', at, appId }));
  const delivered = (messageId: string, reader: string, messageSender: string, at: number) =>
    postAcked(app, legacyReceipt({ messageId, reader, messageSender, kind: 'delivered', at }));

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  it('answers a one-to-one message with its receipts, latencies and summary', async () => {
    await userMessage('7', 'alice', 'bob', T);
    await delivered('7', 'bob', 'alice', T + 2_000);
    await read('7', 'bob', 'alice', T + 5_250);
    expect(await receipts('7')).toEqual({
      messageId: '7',
      appId: APP,
      sender: 'alice',
      receiver: 'bob',
      receiverType: 'user',
      conversationId: 'alice_user_bob',
      category: 'message',
      type: 'text',
      sentAt: iso(T),
      editedAt: null,
      deletedAt: null,
      delivered: [{ uid: 'bob', at: iso(T + 2_000), latencyMs: 2_000, implied: false }],
      read: [{ uid: 'bob', at: iso(T + 5_250), latencyMs: 5_250, implied: false }],
      summary: {
        recipients: 1,
        deliveredCount: 1,
        readCount: 1,
        deliveredToAllAt: iso(T + 2_000),
        readByAllAt: iso(T + 5_250),
      },
    });
  });

  it('finds the app by itself when the id is known in one app only', async () => {
    await userMessage('7', 'alice', 'bob', T);
    expect((await receipts('7', null)).appId).toBe(APP);
    const body = await receipts('7', null);
    expect(body.delivered).toEqual([]);
    expect(body.summary).toEqual({
      recipients: 1,
      deliveredCount: 0,
      readCount: 0,
      deliveredToAllAt: null,
      readByAllAt: null,
    });
  });

  it('lets a read imply delivery at the read time', async () => {
    await userMessage('8', 'alice', 'bob', T);
    await read('8', 'bob', 'alice', T + 4_000);
    const body = await receipts('8');
    expect(body.delivered).toEqual([entry('bob', T + 4_000, T, true)]);
    expect(body.read).toEqual([entry('bob', T + 4_000, T)]);
    // An explicit delivery earlier than the read replaces the implied one.
    await delivered('8', 'bob', 'alice', T + 1_000);
    expect((await receipts('8')).delivered).toEqual([entry('bob', T + 1_000, T)]);
  });

  describe('cumulative receipts', () => {
    beforeEach(async () => {
      await userMessage('11', 'alice', 'bob', T);
      await userMessage('12', 'alice', 'bob', T + 10_000);
      await userMessage('13', 'bob', 'alice', T + 15_000);
      await userMessage('14', 'alice', 'bob', T + 30_000);
      await read('14', 'bob', 'alice', T + 100_000);
    });

    it("covers the reader's earlier messages, not the reader's own", async () => {
      for (const [id, sentAt] of [
        ['11', T],
        ['12', T + 10_000],
      ] as const) {
        const body = await receipts(id);
        expect(body.read).toEqual([entry('bob', T + 100_000, sentAt, true)]);
        expect(body.delivered).toEqual([entry('bob', T + 100_000, sentAt, true)]);
      }
      const own = await receipts('13');
      expect([own.read, own.delivered]).toEqual([[], []]);
      expect((await receipts('14')).read).toEqual([entry('bob', T + 100_000, T + 30_000)]);
    });

    it('lets an explicit receipt with an earlier time replace an implied one, and imply in turn', async () => {
      await read('12', 'bob', 'alice', T + 20_000);
      expect(await receipts('12')).toMatchObject({
        read: [entry('bob', T + 20_000, T + 10_000)],
        delivered: [entry('bob', T + 20_000, T + 10_000, true)],
      });
      // Reading 12 at +20 s means 11 was read by then too.
      expect((await receipts('11')).read).toEqual([entry('bob', T + 20_000, T, true)]);
      // A later message's implied receipt keeps its time.
      expect((await receipts('14')).read).toEqual([entry('bob', T + 100_000, T + 30_000)]);
    });

    it('keeps the earlier implied time over a later explicit one, and prefers explicit at equal times', async () => {
      await read('11', 'bob', 'alice', T + 200_000);
      expect((await receipts('11')).read).toEqual([entry('bob', T + 100_000, T, true)]);
      await delivered('12', 'bob', 'alice', T + 100_000);
      expect((await receipts('12')).delivered).toEqual([entry('bob', T + 100_000, T + 10_000)]);
    });

    it('gives a message that arrives late the receipts of later messages', async () => {
      await userMessage('10', 'alice', 'bob', T - 60_000);
      await userMessage('9', 'bob', 'alice', T - 70_000);
      const late = await receipts('10');
      expect(late.read).toEqual([entry('bob', T + 100_000, T - 60_000, true)]);
      expect(late.delivered).toEqual([entry('bob', T + 100_000, T - 60_000, true)]);
      expect((await receipts('9')).read).toEqual([]);
    });
  });

  it('inherits the earliest receipt of each kind from later messages when a message arrives late', async () => {
    await userMessage('41', 'alice', 'bob', T + 10_000);
    await delivered('41', 'bob', 'alice', T + 12_000);
    await read('41', 'bob', 'alice', T + 50_000);
    await userMessage('40', 'alice', 'bob', T);
    expect(await receipts('40')).toMatchObject({
      delivered: [entry('bob', T + 12_000, T, true)],
      read: [entry('bob', T + 50_000, T, true)],
    });
  });

  it('answers receipts that came before their message, and fills them in when it arrives', async () => {
    await userMessage('30', 'alice', 'bob', T);
    await postAcked(
      app,
      legacyReceipt({
        messageId: '31',
        reader: 'bob',
        messageSender: 'alice',
        kind: 'read',
        at: T + 9_000,
      }),
    );
    expect(await receipts('31')).toEqual({
      messageId: '31',
      appId: APP,
      sender: 'alice',
      receiver: 'bob',
      receiverType: 'user',
      conversationId: null,
      category: null,
      type: null,
      sentAt: null,
      editedAt: null,
      deletedAt: null,
      delivered: [entry('bob', T + 9_000, null, true)],
      read: [entry('bob', T + 9_000, null)],
      summary: {
        recipients: 1,
        deliveredCount: 1,
        readCount: 1,
        deliveredToAllAt: iso(T + 9_000),
        readByAllAt: iso(T + 9_000),
      },
    });
    // Not known to belong to 30's conversation yet.
    expect((await receipts('30')).read).toEqual([]);

    await postAcked(
      app,
      messageEvent('message_sent', {
        id: '31',
        sender: 'alice',
        receiver: 'bob',
        sentAt: T + 1_000,
      }),
    );
    expect(await receipts('31')).toMatchObject({
      conversationId: 'alice_user_bob',
      category: 'message',
      type: 'text',
      sentAt: iso(T + 1_000),
      editedAt: null,
      deletedAt: null,
      delivered: [entry('bob', T + 9_000, T + 1_000, true)],
      read: [entry('bob', T + 9_000, T + 1_000)],
    });
    // Now it is: the earlier message is read too.
    expect((await receipts('30')).read).toEqual([entry('bob', T + 9_000, T, true)]);
  });

  it('answers a group message: per-member receipts, distinct recipients and the aggregates', async () => {
    const group = { receiverType: 'group' as const, receiver: 'team' };
    await postAcked(
      app,
      messageEvent('message_sent', { id: '20', sender: 'carol', sentAt: T, ...group }),
    );
    await postAcked(app, afterMessage({ id: '21', sender: 'alice', sentAt: T + 1_000, ...group }));
    const member = (reader: string, kind: Kind, at: number) =>
      postAcked(
        app,
        currentReceipt({ messageId: '21', reader, messageSender: 'alice', kind, at, ...group }),
      );
    await member('bob', 'delivered', T + 1_500);
    await member('carol', 'delivered', T + 1_800);
    await member('bob', 'read', T + 4_000);
    await postAcked(
      app,
      groupAggregate({ messageId: '21', group: 'team', kind: 'deliveredToAll', at: T + 1_800 }),
    );

    expect(await receipts('21')).toEqual({
      messageId: '21',
      appId: APP,
      sender: 'alice',
      receiver: 'team',
      receiverType: 'group',
      conversationId: 'group_team',
      category: 'message',
      type: 'text',
      sentAt: iso(T + 1_000),
      editedAt: null,
      deletedAt: null,
      delivered: [entry('bob', T + 1_500, T + 1_000), entry('carol', T + 1_800, T + 1_000)],
      read: [entry('bob', T + 4_000, T + 1_000)],
      summary: {
        recipients: 2,
        deliveredCount: 2,
        readCount: 1,
        deliveredToAllAt: iso(T + 1_800),
        readByAllAt: null,
      },
    });
    // Bob's receipts cover carol's earlier message; carol's own do not.
    expect(await receipts('20')).toMatchObject({
      delivered: [entry('bob', T + 1_500, T, true)],
      read: [entry('bob', T + 4_000, T, true)],
      summary: { recipients: 1, deliveredCount: 1, readCount: 1 },
    });
  });

  it('answers a group message known only from an aggregate, with the sender and group it names', async () => {
    await postAcked(
      app,
      groupAggregate({
        messageId: '51',
        group: 'team',
        kind: 'readByAll',
        at: T + 3_000,
        messageSender: 'alice',
      }),
    );
    expect(await receipts('51')).toEqual({
      messageId: '51',
      appId: APP,
      sender: 'alice',
      receiver: 'team',
      receiverType: 'group',
      conversationId: null,
      category: null,
      type: null,
      sentAt: null,
      editedAt: null,
      deletedAt: null,
      delivered: [],
      read: [],
      summary: {
        recipients: 0,
        deliveredCount: 0,
        readCount: 0,
        deliveredToAllAt: null,
        readByAllAt: iso(T + 3_000),
      },
    });
  });

  it('ignores redeliveries of a receipt, in either format', async () => {
    await userMessage('5', 'alice', 'bob', T);
    const receipt = {
      messageId: '5',
      reader: 'bob',
      messageSender: 'alice',
      kind: 'read' as const,
    };
    expect((await postAcked(app, legacyReceipt({ ...receipt, at: T + 10_000 }))).duplicate).toBe(
      false,
    );
    expect((await postAcked(app, legacyReceipt({ ...receipt, at: T + 10_000 }))).duplicate).toBe(
      true,
    );
    expect((await postAcked(app, currentReceipt({ ...receipt, at: T + 10_000 }))).duplicate).toBe(
      true,
    );
    expect((await receipts('5')).read).toEqual([entry('bob', T + 10_000, T)]);
  });

  it('keeps apps apart and asks for appId when the id is known in several', async () => {
    await userMessage('7', 'alice', 'bob', T);
    await userMessage('7', 'erin', 'frank', T + 1_000, OTHER_APP);
    await read('7', 'frank', 'erin', T + 3_000, OTHER_APP);

    expect(await receipts('7', APP)).toMatchObject({ sender: 'alice', read: [] });
    expect(await receipts('7', OTHER_APP)).toMatchObject({
      appId: OTHER_APP,
      sender: 'erin',
      read: [entry('frank', T + 3_000, T + 1_000)],
    });
    const ambiguous = await app.inject({ method: 'GET', url: '/messages/7/receipts' });
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json()).toMatchObject({ statusCode: 400, field: 'appId' });
    expect(ambiguous.json().message).toContain('appId');
  });

  it.each([
    ['/messages/404/receipts', 404],
    [`/messages/404/receipts?appId=${APP}`, 404],
    ['/messages/7/receipts?appId=app-three', 404],
  ])('answers %s with %i when nothing is known', async (url, status) => {
    await userMessage('7', 'alice', 'bob', T);
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });

  it.each([
    ['appId=', 'appId'],
    ['limit=5', 'limit'],
  ])('answers 400 naming the parameter for %s', async (query, field) => {
    await userMessage('7', 'alice', 'bob', T);
    const res = await app.inject({ method: 'GET', url: `/messages/7/receipts?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, field });
  });

  describe('a reader on two devices', () => {
    const SENT = T;
    const LATE = T + 30_000; // the receipt of one device
    const EARLY = T + 10_000; // the other device read it first
    const histogram = () =>
      rows<{ span_hours: number; count: string; sum_ms: string }>(
        `SELECT span_hours, sum(count)::text AS count, sum(sum_ms)::text AS sum_ms
           FROM latency_histogram WHERE kind = 'read' GROUP BY span_hours ORDER BY span_hours`,
      );

    it.each([
      ['later first', [LATE, EARLY]],
      ['earlier first', [EARLY, LATE]],
    ])(
      'keeps both receipts raw and the earliest time, whatever arrives first (%s)',
      async (_, times) => {
        await userMessage('50', 'alice', 'bob', SENT);
        for (const at of times) {
          expect(await read('50', 'bob', 'alice', at)).toMatchObject({ duplicate: false });
        }

        expect((await receipts('50')).read).toEqual([entry('bob', EARLY, SENT)]);
        expect(
          await rows(
            `SELECT natural_key FROM webhook_events WHERE trigger = 'message_read_receipt' ORDER BY event_at`,
          ),
        ).toEqual([
          { natural_key: JSON.stringify(['receipt', '50', 'bob', 'read', EARLY]) },
          { natural_key: JSON.stringify(['receipt', '50', 'bob', 'read', LATE]) },
        ]);
        // counted once, at its earliest time: exactly, and in the histogram behind long windows
        const exact = await app.inject({ method: 'GET', url: '/analytics/read-latency' });
        expect(exact.json()).toMatchObject({ count: 1, maxMs: 10_000, approximate: false });
        expect(await histogram()).toEqual([
          { span_hours: 1, count: '1', sum_ms: '10000' },
          { span_hours: 24, count: '1', sum_ms: '10000' },
        ]);
        const binned = await startApp({ LATENCY_EXACT_LIMIT: '0' });
        try {
          const res = await binned.inject({ method: 'GET', url: '/analytics/read-latency' });
          expect(res.json()).toMatchObject({ count: 1, approximate: true });
          expect(res.json().maxMs).toBeGreaterThanOrEqual(9_900);
          expect(res.json().maxMs).toBeLessThanOrEqual(10_100);
        } finally {
          await binned.close();
        }
      },
    );

    it('still answers a redelivery of the same receipt, in either format, as a duplicate', async () => {
      await read('51', 'bob', 'alice', EARLY);
      const legacy = legacyReceipt({
        messageId: '51',
        reader: 'bob',
        messageSender: 'alice',
        kind: 'read',
        at: EARLY,
      });
      expect(await postAcked(app, legacy)).toMatchObject({ duplicate: true });
      expect(await rows(`SELECT count(*)::int AS n FROM webhook_events`)).toEqual([{ n: 1 }]);
    });

    it.each([
      ['later first', [T + 9_000, T + 4_000]],
      ['earlier first', [T + 4_000, T + 9_000]],
    ])(
      'keeps both group aggregates at different times, the earliest winning (%s)',
      async (_, times) => {
        await postAcked(
          app,
          afterMessage({
            id: '52',
            sender: 'alice',
            receiver: 'hikers',
            receiverType: 'group',
            sentAt: T,
          }),
        );
        for (const at of times) {
          expect(
            await postAcked(
              app,
              groupAggregate({ messageId: '52', group: 'hikers', kind: 'readByAll', at }),
            ),
          ).toMatchObject({
            duplicate: false,
          });
        }
        expect((await receipts('52')).summary).toMatchObject({ readByAllAt: iso(T + 4_000) });
        expect(
          await rows(
            `SELECT count(*)::int AS n FROM webhook_events WHERE trigger = 'message_read_by_all'`,
          ),
        ).toEqual([{ n: 2 }]);
      },
    );
  });
});

describe('receipts written by concurrent batches', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    // Many small batches in flight at once, so a message and its receipts land in different ones.
    app = await startApp({ INGEST_CONCURRENCY: '8', INGEST_MAX_BATCH: '1' });
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  it('matches every receipt with its message and covers earlier messages, whatever the order', async () => {
    for (let round = 0; round < 5; round++) {
      await resetDatabase();
      const conversation = `c${round}`;
      // Messages 1..10 one second apart; bob reads 3, 6 and 9 at +23 s, +26 s, +29 s.
      const events = [
        ...Array.from({ length: 10 }, (_, i) =>
          afterMessage({
            id: String(i + 1),
            sender: 'alice',
            receiver: 'bob',
            sentAt: T + (i + 1) * 1_000,
            conversationId: conversation,
          }),
        ),
        ...[3, 6, 9].map((k) =>
          currentReceipt({
            messageId: String(k),
            reader: 'bob',
            messageSender: 'alice',
            kind: 'read',
            at: T + 20_000 + k * 1_000,
          }),
        ),
      ];
      const shuffled = events
        .map((e, i) => ({ e, key: (i * 7 + round * 3) % events.length }))
        .sort((a, b) => a.key - b.key);
      const answers = await Promise.all(shuffled.map(({ e }) => post(app, e)));
      expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));

      const readAt = (k: number) => (k <= 3 ? 23_000 : k <= 6 ? 26_000 : k <= 9 ? 29_000 : null);
      const expected = Array.from({ length: 10 }, (_, i) => i + 1)
        .filter((k) => readAt(k) !== null)
        .map((k) => ({
          message_id: String(k),
          at: new Date(T + readAt(k)!),
          latency_ms: String(readAt(k)! - k * 1_000),
        }));
      const stored = await rows(
        `SELECT message_id, at, latency_ms FROM receipts WHERE kind = 'read' ORDER BY length(message_id), message_id`,
      );
      expect({ round, stored }).toEqual({ round, stored: expected });
    }
  });
});
