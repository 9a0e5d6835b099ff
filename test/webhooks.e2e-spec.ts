import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  APP,
  afterMessage,
  currentConnection,
  currentReceipt,
  documented,
  documentedJson,
  groupAggregate,
  legacyConnection,
  legacyReceipt,
  messageEvent,
} from './factories';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { iso, post } from './setup/http';

const count = async (table: string) =>
  Number((await rows<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0].n);

describe('POST /webhooks/cometchat', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  describe('the documented payloads', () => {
    it('answers before_message with exactly {} and keeps the raw event', async () => {
      const res = await post(app, documented('before_message'));
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('{}');
      const [event] = await rows(
        `SELECT app_id, trigger, webhook, uid, event_at, body FROM webhook_events`,
      );
      expect(event).toMatchObject({
        app_id: '167*****1529',
        trigger: 'before_message',
        webhook: 'send-message',
        uid: 'cometchat-uid-5',
        event_at: new Date(1586435925000),
      });
      expect(event.body).toEqual(documentedJson('before_message'));
      expect(await count('messages')).toBe(0);
    });

    it('stores after_message as a message', async () => {
      const res = await post(app, documented('after_message'));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ eventId: expect.any(String), duplicate: false });
      expect(await rows(`SELECT * FROM messages`)).toEqual([
        {
          app_id: '167*****1529',
          id: '1',
          conversation_id: 'cometchat-uid-4_user_cometchat-uid-5',
          sender: 'cometchat-uid-5',
          receiver: 'cometchat-uid-4',
          receiver_type: 'user',
          category: 'message',
          type: 'text',
          sent_at: new Date(1586435925000),
          edited_at: null,
          deleted_at: null,
          event_id: res.json().eventId,
        },
      ]);
    });

    it.each([
      ['message_delivery_receipt', 'delivered'],
      ['message_read_receipt', 'read'],
    ])(
      'stores the legacy %s as a %s receipt with its latency once the message is known',
      async (name, kind) => {
        await post(app, documented('after_message'));
        const res = await post(app, documented(name));
        expect(res.statusCode).toBe(200);
        const receipts = await rows(
          `SELECT message_id, reader, kind, at, implied, receiver_type, receiver, message_sender, conversation_id, latency_ms
           FROM receipts WHERE kind = $1`,
          [kind],
        );
        expect(receipts).toEqual([
          {
            message_id: '1',
            reader: 'cometchat-uid-4',
            kind,
            at: new Date(1673017183000),
            implied: false,
            receiver_type: 'user',
            receiver: 'cometchat-uid-5',
            message_sender: 'cometchat-uid-5',
            conversation_id: 'cometchat-uid-4_user_cometchat-uid-5',
            latency_ms: String(1673017183000 - 1586435925000),
          },
        ]);
      },
    );

    it('stores the legacy connection event with its session and presence', async () => {
      const res = await post(app, documented('after_connection_status_changed'));
      expect(res.statusCode).toBe(200);
      expect(
        await rows(
          `SELECT uid, action, at, status, session_key, device_id, platform, connected_at, open_sessions FROM connection_events`,
        ),
      ).toEqual([
        {
          uid: 'cometchat-uid-4',
          action: 'connected',
          at: new Date(1673017183000),
          status: 'online',
          session_key: 'sess-web-2',
          device_id: '7f3c2a9e-web',
          platform: 'web',
          connected_at: new Date(1673017182950),
          open_sessions: ['sess-android-1', 'sess-web-2'],
        },
      ]);
      // sess-android-1, listed in connections[] but never seen connecting, is open too (inferred)
      expect(
        await rows(
          `SELECT uid, session_key, connected_at, disconnected_at, opened_by FROM sessions ORDER BY session_key`,
        ),
      ).toEqual([
        {
          uid: 'cometchat-uid-4',
          session_key: 'sess-android-1',
          connected_at: new Date(1673010000000),
          disconnected_at: null,
          opened_by: 'inferred',
        },
        {
          uid: 'cometchat-uid-4',
          session_key: 'sess-web-2',
          connected_at: new Date(1673017182950),
          disconnected_at: null,
          opened_by: 'event',
        },
      ]);
      expect(await rows(`SELECT uid, status, status_at FROM presence`)).toEqual([
        { uid: 'cometchat-uid-4', status: 'online', status_at: new Date(1673017183000) },
      ]);
    });

    it('answers the verbatim documentation body (not JSON) with 400 and keeps it byte for byte', async () => {
      const verbatim = documented('after_message', 'verbatim.txt');
      const res = await post(app, verbatim);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        field: 'body',
        message: expect.stringMatching(/^body is not valid JSON/),
      });
      const [rejected] = await rows<{ body: Buffer; reason: string; content_type: string }>(
        `SELECT body, reason, content_type FROM rejected_events`,
      );
      expect(rejected.body.toString('utf8')).toBe(verbatim);
      expect(rejected.content_type).toBe('application/json');
      expect(await count('webhook_events')).toBe(0);

      const listed = await app.inject({ method: 'GET', url: '/events/rejected' });
      expect(listed.json().items[0]).toMatchObject({
        body: verbatim,
        field: 'body',
        id: res.json().rejectedId,
      });
    });
  });

  describe('the current format', () => {
    it('stores message_sent, then an edit and a delete on the same row', async () => {
      const m = { id: '501', sender: 'alice', receiver: 'bob' };
      await post(app, messageEvent('message_sent', { ...m, sentAt: 1_700_000_000 }));
      await post(
        app,
        messageEvent('message_edited', { ...m, sentAt: 1_700_000_000, editedAt: 1_700_000_060 }),
      );
      await post(
        app,
        messageEvent('message_deleted', { ...m, sentAt: 1_700_000_000, deletedAt: 1_700_000_120 }),
      );
      expect(
        await rows(`SELECT id, conversation_id, sent_at, edited_at, deleted_at FROM messages`),
      ).toEqual([
        {
          id: '501',
          conversation_id: 'alice_user_bob',
          sent_at: new Date(1_700_000_000_000),
          edited_at: new Date(1_700_000_060_000),
          deleted_at: new Date(1_700_000_120_000),
        },
      ]);
      expect(await count('webhook_events')).toBe(3);
    });

    it('stores current-format receipts with the reader taken from data.sender', async () => {
      await post(
        app,
        messageEvent('message_sent', {
          id: '7',
          sender: 'alice',
          receiver: 'bob',
          sentAt: 1_700_000_000,
        }),
      );
      const res = await post(
        app,
        currentReceipt({
          messageId: '7',
          reader: 'bob',
          messageSender: 'alice',
          kind: 'read',
          at: 1_700_000_004,
        }),
      );
      expect(res.statusCode).toBe(200);
      expect(
        await rows(`SELECT kind, reader, at, implied, latency_ms FROM receipts ORDER BY kind`),
      ).toEqual([
        // a read implies delivery no later than the read
        {
          kind: 'delivered',
          reader: 'bob',
          at: new Date(1_700_000_004_000),
          implied: true,
          latency_ms: '4000',
        },
        {
          kind: 'read',
          reader: 'bob',
          at: new Date(1_700_000_004_000),
          implied: false,
          latency_ms: '4000',
        },
      ]);
    });

    it('stores group aggregates, keeping the earliest time', async () => {
      await post(
        app,
        groupAggregate({ messageId: '9', group: 'g1', kind: 'deliveredToAll', at: 1_700_000_010 }),
      );
      await post(
        app,
        groupAggregate({ messageId: '9', group: 'g1', kind: 'readByAll', at: 1_700_000_030 }),
      );
      expect(await rows(`SELECT message_id, kind, at FROM group_receipts ORDER BY kind`)).toEqual([
        { message_id: '9', kind: 'deliveredToAll', at: new Date(1_700_000_010_000) },
        { message_id: '9', kind: 'readByAll', at: new Date(1_700_000_030_000) },
      ]);
    });

    it('stores connection events keyed by connectedAt and platform', async () => {
      const at = 1_700_000_000_000;
      await post(
        app,
        currentConnection({
          uid: 'carol',
          action: 'connected',
          at,
          status: 'online',
          connectedAt: at,
          platform: 'ios',
          lastActiveAt: 1_700_000_000,
        }),
      );
      await post(
        app,
        currentConnection({
          uid: 'carol',
          action: 'disconnected',
          at: at + 60_000,
          status: 'offline',
          connectedAt: at,
          platform: 'ios',
        }),
      );
      expect(
        await rows(
          `SELECT session_key, platform, connected_at, disconnected_at, closed_by FROM sessions`,
        ),
      ).toEqual([
        {
          session_key: `${at}:ios`,
          platform: 'ios',
          connected_at: new Date(at),
          disconnected_at: new Date(at + 60_000),
          closed_by: 'event',
        },
      ]);
      expect(await rows(`SELECT status, status_at, last_active_at FROM presence`)).toEqual([
        {
          status: 'offline',
          status_at: new Date(at + 60_000),
          last_active_at: new Date(at + 60_000 - (60_000 % 1000)),
        },
      ]);
    });

    it('stores unknown triggers raw and answers 200', async () => {
      const res = await post(app, {
        trigger: 'group_member_scope_changed',
        appId: APP,
        data: { guid: 'g1' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().duplicate).toBe(false);
      expect(await rows(`SELECT trigger FROM webhook_events`)).toEqual([
        { trigger: 'group_member_scope_changed' },
      ]);
    });

    it('refuses a group member event without its group, naming the field (it makes membership)', async () => {
      const res = await post(app, {
        trigger: 'group_member_added',
        appId: APP,
        data: { guid: 'g1' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ field: 'data.group' });
    });
  });

  describe('values as they arrive', () => {
    it('accepts numeric strings, millisecond times and numeric ids', async () => {
      await post(
        app,
        afterMessage({
          id: 42 as unknown as string,
          sender: 'alice',
          receiver: 'bob',
          sentAt: '1700000000',
        }),
      );
      await post(
        app,
        legacyReceipt({
          messageId: '42',
          reader: 'bob',
          messageSender: 'alice',
          kind: 'delivered',
          at: '1700000002500',
        }),
      );
      expect(await rows(`SELECT id, sent_at FROM messages`)).toEqual([
        { id: '42', sent_at: new Date(1_700_000_000_000) },
      ]);
      expect(await rows(`SELECT at, latency_ms FROM receipts`)).toEqual([
        { at: new Date(1_700_000_002_500), latency_ms: '2500' },
      ]);
    });

    it('accepts Content-Type in any letter case, and a body with no Content-Type', async () => {
      const a = await post(app, afterMessage({ id: '1', sender: 'a', receiver: 'b' }), {
        'content-type': 'Application/JSON; charset=UTF-8',
      });
      const b = await app.inject({
        method: 'POST',
        url: '/webhooks/cometchat',
        payload: JSON.stringify(afterMessage({ id: '2', sender: 'a', receiver: 'b' })),
      });
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      expect(await count('messages')).toBe(2);
    });

    it('fills in a receipt that arrived before its message', async () => {
      await post(
        app,
        legacyReceipt({
          messageId: '77',
          reader: 'bob',
          messageSender: 'alice',
          kind: 'read',
          at: 1_700_000_009,
        }),
      );
      expect(await rows(`SELECT sent_at, latency_ms FROM receipts WHERE kind = 'read'`)).toEqual([
        { sent_at: null, latency_ms: null },
      ]);
      await post(
        app,
        afterMessage({ id: '77', sender: 'alice', receiver: 'bob', sentAt: 1_700_000_001 }),
      );
      expect(
        await rows(`SELECT kind, sent_at, latency_ms, conversation_id FROM receipts ORDER BY kind`),
      ).toEqual([
        {
          kind: 'delivered',
          sent_at: new Date(1_700_000_001_000),
          latency_ms: '8000',
          conversation_id: 'alice_user_bob',
        },
        {
          kind: 'read',
          sent_at: new Date(1_700_000_001_000),
          latency_ms: '8000',
          conversation_id: 'alice_user_bob',
        },
      ]);
    });
  });

  describe('redeliveries', () => {
    it('answers the same bytes again with duplicate: true and the same event id', async () => {
      const body = JSON.stringify(afterMessage({ id: '5', sender: 'a', receiver: 'b' }));
      const first = await post(app, body);
      const again = await post(app, body);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ eventId: first.json().eventId, duplicate: true });
      expect(await count('webhook_events')).toBe(1);
    });

    it('treats the same natural key with different bytes as a duplicate that changes nothing', async () => {
      const receipt = {
        messageId: '5',
        reader: 'b',
        messageSender: 'a',
        kind: 'read' as const,
        at: 1_700_000_010,
      };
      const first = await post(app, legacyReceipt(receipt));
      // Same message, reader, kind and time in the other format: the same receipt. (At another
      // time it is another device's receipt: a new event, see receipts.e2e-spec.ts.)
      const again = await post(app, currentReceipt(receipt));
      expect(again.json()).toEqual({ eventId: first.json().eventId, duplicate: true });
      expect(await rows(`SELECT at FROM receipts WHERE kind = 'read'`)).toEqual([
        { at: new Date(1_700_000_010_000) },
      ]);
    });

    it('answers a before_message redelivery with {} too', async () => {
      const body = documented('before_message');
      await post(app, body);
      const again = await post(app, body);
      expect([again.statusCode, again.body]).toEqual([200, '{}']);
      expect(await count('webhook_events')).toBe(1);
    });

    it('keeps one row when the same event is posted concurrently', async () => {
      const body = JSON.stringify(
        legacyReceipt({
          messageId: '8',
          reader: 'b',
          messageSender: 'a',
          kind: 'read',
          at: 1_700_000_010,
        }),
      );
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(app, body)));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
      expect(answers.filter((a) => !a.json().duplicate)).toHaveLength(1);
      expect(await count('webhook_events')).toBe(1);
    });
  });

  describe('unusable input', () => {
    it.each([
      [{ appId: APP, data: {} }, 'trigger', 'trigger is required'],
      [{ trigger: 'after_message', data: {} }, 'appId', 'appId is required'],
      [
        {
          ...afterMessage({ id: '1', sender: 'a', receiver: 'b' }),
          data: {
            ...(afterMessage({ id: '1', sender: 'a', receiver: 'b' }).data as object),
            sentAt: 'yesterday',
          },
        },
        'data.sentAt',
        'data.sentAt must be a Unix time (number or numeric string)',
      ],
      [
        {
          ...legacyReceipt({
            messageId: '1',
            reader: 'b',
            messageSender: 'a',
            kind: 'read',
            at: 1,
          }),
          data: { readAt: 1_700_000_000 },
        },
        'data.messageId',
        'data.messageId is required',
      ],
      [
        { trigger: 'after_connection_status_changed', appId: APP, data: { user: { uid: 'u' } } },
        'data.event',
        'data.event must be an object',
      ],
      [
        { trigger: 'message_sent', appId: APP, data: { message: { id: {}, sender: 'a' } } },
        'data.message.id',
        'data.message.id must be a string or a number',
      ],
    ])('answers %j with 400 naming %s, and keeps the body', async (body, field, message) => {
      const res = await post(app, body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, field, message });
      expect(await rows(`SELECT field, reason FROM rejected_events`)).toEqual([
        { field, reason: message },
      ]);
      expect(await count('webhook_events')).toBe(0);
    });

    it('answers an empty body with 400 and keeps it', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/webhooks/cometchat',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe('body is not valid JSON: the body is empty');
      expect(await count('rejected_events')).toBe(1);
    });

    it('answers a body over the limit with 413 and stores nothing', async () => {
      const small = await startApp({ BODY_LIMIT_BYTES: '2048' });
      try {
        const body = afterMessage({ id: '1', sender: 'a', receiver: 'b' });
        (body.data as Record<string, unknown>).data = { text: 'x'.repeat(4096) };
        const res = await post(small, body);
        expect(res.statusCode).toBe(413);
        expect(await count('webhook_events')).toBe(0);
      } finally {
        await small.close();
      }
    });
  });

  describe('Basic auth', () => {
    let secured: NestFastifyApplication;
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

    beforeAll(async () => {
      secured = await startApp({ WEBHOOK_USERNAME: 'cometchat', WEBHOOK_PASSWORD: 's3cret-pass' });
    });
    afterAll(() => secured.close());

    it.each([
      ['no credentials', undefined],
      ['a wrong password', basic('cometchat', 'wrong')],
      ['a wrong user', basic('someone', 's3cret-pass')],
      ['a bearer token', 'Bearer s3cret-pass'],
    ])(
      'refuses %s with 401 and stores nothing, not even a rejected body',
      async (_, authorization) => {
        const res = await post(
          secured,
          documented('after_message'),
          authorization ? { authorization } : {},
        );
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Basic realm="webhooks"');
        const bad = await post(secured, 'not json', authorization ? { authorization } : {});
        expect(bad.statusCode).toBe(401);
        expect(await count('webhook_events')).toBe(0);
        expect(await count('rejected_events')).toBe(0);
      },
    );

    it('accepts the right credentials', async () => {
      const res = await post(secured, documented('after_message'), {
        authorization: basic('cometchat', 's3cret-pass'),
      });
      expect(res.statusCode).toBe(200);
      expect(await count('messages')).toBe(1);
    });
  });

  it('keeps two apps with the same uid and message id apart', async () => {
    for (const appId of ['app-a', 'app-b']) {
      await post(
        app,
        afterMessage({
          appId,
          id: '1',
          sender: 'alice',
          receiver: 'bob',
          sentAt: appId === 'app-a' ? 1_700_000_000 : 1_700_000_100,
        }),
      );
      await post(
        app,
        legacyConnection({
          appId,
          uid: 'alice',
          type: 'connected',
          at: 1_700_000_000_000,
          status: 'online',
          connection: { session: 's1', connectedAt: 1_700_000_000_000 },
        }),
      );
    }
    expect(await rows(`SELECT app_id, sent_at FROM messages ORDER BY app_id`)).toEqual([
      { app_id: 'app-a', sent_at: new Date(1_700_000_000_000) },
      { app_id: 'app-b', sent_at: new Date(1_700_000_100_000) },
    ]);
    expect(await count('presence')).toBe(2);
    const listed = await app.inject({ method: 'GET', url: '/events?appId=app-b' });
    expect(listed.json().items.map((e: { appId: string }) => e.appId)).toEqual(['app-b', 'app-b']);
  });

  it('keeps state in event-time order when events arrive out of order', async () => {
    const t = 1_700_000_000_000;
    const connection = { session: 's1', connectedAt: t };
    await post(
      app,
      legacyConnection({
        uid: 'dave',
        type: 'disconnected',
        at: t + 5000,
        status: 'offline',
        connection,
        open: [],
      }),
    );
    await post(
      app,
      legacyConnection({
        uid: 'dave',
        type: 'connected',
        at: t,
        status: 'online',
        connection,
        open: [connection],
      }),
    );
    expect(await rows(`SELECT status, status_at FROM presence`)).toEqual([
      { status: 'offline', status_at: new Date(t + 5000) },
    ]);
    expect(await rows(`SELECT connected_at, disconnected_at FROM sessions`)).toEqual([
      { connected_at: new Date(t), disconnected_at: new Date(t + 5000) },
    ]);
    expect(iso(t)).toBe('2023-11-14T22:13:20.000Z');
  });
});

describe('GET /events', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    for (let i = 0; i < 5; i++) {
      await post(
        app,
        afterMessage({
          id: `m${i}`,
          sender: i % 2 ? 'alice' : 'bob',
          receiver: 'carol',
          sentAt: 1_700_000_000 + i,
        }),
      );
    }
    await post(
      app,
      legacyReceipt({
        messageId: 'm0',
        reader: 'carol',
        messageSender: 'bob',
        kind: 'read',
        at: 1_700_000_100,
      }),
    );
  });
  afterAll(() => app.close());

  it('lists newest first and pages with an opaque cursor', async () => {
    const first = (await app.inject({ method: 'GET', url: '/events?limit=4' })).json();
    expect(first.items.map((e: { trigger: string }) => e.trigger)).toEqual([
      'message_read_receipt',
      'after_message',
      'after_message',
      'after_message',
    ]);
    const second = (
      await app.inject({ method: 'GET', url: `/events?limit=4&cursor=${first.nextCursor}` })
    ).json();
    expect(second.items.map((e: { body: { data: { id: string } } }) => e.body.data.id)).toEqual([
      'm1',
      'm0',
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it('filters by trigger, uid and time range', async () => {
    const byUid = (await app.inject({ method: 'GET', url: '/events?uid=alice' })).json();
    expect(byUid.items.map((e: { body: { data: { id: string } } }) => e.body.data.id)).toEqual([
      'm3',
      'm1',
    ]);
    const byTrigger = (
      await app.inject({ method: 'GET', url: '/events?trigger=message_read_receipt' })
    ).json();
    expect(byTrigger.items).toHaveLength(1);
    const range = (
      await app.inject({ method: 'GET', url: '/events?from=2023-11-14T22:13:21Z&to=1700000003' })
    ).json();
    // [from, to): the event at exactly `to` (22:13:23) is out.
    expect(range.items.map((e: { eventAt: string }) => e.eventAt)).toEqual([
      '2023-11-14T22:13:22.000Z',
      '2023-11-14T22:13:21.000Z',
    ]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['from=yesterday', 'from'],
    ['cursor=nonsense', 'cursor'],
    ['colour=blue', 'colour'],
  ])('answers %s with 400 naming %s', async (query, field) => {
    const res = await app.inject({ method: 'GET', url: `/events?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });
});
