import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { APP, actionMessage, afterMessage, currentReceipt, messageEvent } from './factories';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { isoSeconds, post, postAcked } from './setup/http';

const T = 1_700_000_000; // seconds

describe('edits and deletes (GET /messages/:id)', () => {
  let app: NestFastifyApplication;
  const message = (id: string, query = `appId=${APP}`) =>
    app.inject({ method: 'GET', url: `/messages/${id}?${query}` });
  const pair = { sender: 'ann', receiver: 'bob' };

  beforeAll(async () => {
    app = await startApp();
  });
  beforeEach(() => resetDatabase());
  afterAll(() => app.close());

  it('answers a message, 404 when unknown, and asks for appId when two apps know the id', async () => {
    await postAcked(app, afterMessage({ id: '1', ...pair, sentAt: T }));
    const res = await message('1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: '1',
      appId: APP,
      sender: 'ann',
      receiver: 'bob',
      receiverType: 'user',
      conversationId: 'ann_user_bob',
      category: 'message',
      type: 'text',
      sentAt: isoSeconds(T),
      editedAt: null,
      deletedAt: null,
    });
    expect((await message('2')).statusCode).toBe(404);
    expect((await message('1', 'appId=app-two')).statusCode).toBe(404);
    expect((await message('1', '')).json()).toMatchObject({ id: '1', appId: APP });
    await postAcked(app, afterMessage({ id: '1', ...pair, sentAt: T, appId: 'app-two' }));
    const ambiguous = await message('1', '');
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json()).toMatchObject({ field: 'appId' });
  });

  it('gives the same state whatever order the message, its edits and its delete arrive in', async () => {
    const target = { id: '7', ...pair, sentAt: T };
    const events = [
      messageEvent('message_sent', target),
      actionMessage('message_edited', { ...target, actionId: '8', action: 'edited', at: T + 10 }),
      actionMessage('message_edited', { ...target, actionId: '9', action: 'edited', at: T + 20 }),
      actionMessage('after_message', { ...target, actionId: '10', action: 'deleted', at: T + 30 }),
    ];
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [2, 0, 3, 1],
      [1, 3, 0, 2],
    ];
    for (const order of orders) {
      await resetDatabase();
      for (const i of order) {
        expect(await postAcked(app, events[i])).toMatchObject({ duplicate: false });
      }
      expect((await message('7')).json()).toMatchObject({
        sender: 'ann',
        sentAt: isoSeconds(T),
        editedAt: isoSeconds(T + 20),
        deletedAt: isoSeconds(T + 30),
      });
      // Each action message is kept raw, and is never a message of its own.
      for (const id of ['8', '9', '10']) {
        expect((await message(id)).statusCode).toBe(404);
      }
      expect(await rows(`SELECT count(*)::int AS n FROM webhook_events`)).toEqual([{ n: 4 }]);
    }
  });

  it('knows an edit by (target, action, time): two edits are two events, a redelivery is one', async () => {
    const target = { id: '7', ...pair, sentAt: T };
    await postAcked(app, messageEvent('message_sent', target));
    const edit = { ...target, actionId: '8', action: 'edited' as const, at: T + 10 };
    expect(await postAcked(app, actionMessage('message_edited', edit))).toMatchObject({
      duplicate: false,
    });
    // The same edit through the legacy webhook, and in the body read before (the message itself).
    expect(await postAcked(app, actionMessage('after_message', edit))).toMatchObject({
      duplicate: true,
    });
    expect(
      await postAcked(app, messageEvent('message_edited', { ...target, editedAt: T + 10 })),
    ).toMatchObject({ duplicate: true });
    expect(
      await postAcked(app, messageEvent('message_edited', { ...target, editedAt: T + 15 })),
    ).toMatchObject({ duplicate: false });
    expect((await message('7')).json()).toMatchObject({
      editedAt: isoSeconds(T + 15),
      deletedAt: null,
    });
    expect(
      await postAcked(app, messageEvent('message_deleted', { ...target, deletedAt: T + 40 })),
    ).toMatchObject({ duplicate: false });
    expect((await message('7')).json()).toMatchObject({ deletedAt: isoSeconds(T + 40) });
  });

  it('names the missing field of an action message', async () => {
    const body = actionMessage('message_deleted', {
      id: '7',
      ...pair,
      actionId: '8',
      action: 'deleted',
      at: T + 10,
    }) as {
      data: { message: { data: { entities: { on: { entity: Record<string, unknown> } } } } };
    };
    delete body.data.message.data.entities.on.entity.sender;
    const res = await post(app, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'data.message.data.entities.on.entity.sender' });

    const wrong = actionMessage('message_edited', {
      id: '7',
      ...pair,
      actionId: '8',
      action: 'deleted',
      at: T + 10,
    });
    const refused = await post(app, wrong);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ field: 'data.message.data.action' });
  });

  it('keeps other action messages raw only: no message, not counted', async () => {
    const joined = afterMessage({ id: '11', ...pair, sentAt: T }) as {
      data: Record<string, unknown>;
    };
    joined.data.category = 'action';
    joined.data.type = 'groupMember';
    joined.data.data = { action: 'joined', entities: {} };
    expect(await postAcked(app, joined)).toMatchObject({ duplicate: false });
    expect((await message('11')).statusCode).toBe(404);
    expect(await rows(`SELECT trigger FROM webhook_events`)).toEqual([
      { trigger: 'after_message' },
    ]);
  });

  it('never counts an action message: not in conversations, not implied by receipts, not in latency', async () => {
    const target = { id: '20', ...pair, sentAt: T };
    await postAcked(app, afterMessage(target));
    await postAcked(
      app,
      actionMessage('after_message', { ...target, actionId: '21', action: 'edited', at: T + 5 }),
    );
    await postAcked(
      app,
      actionMessage('message_edited', { ...target, actionId: '22', action: 'edited', at: T + 6 }),
    );
    // bob reads a later message: the implied read covers message 20, and only it.
    await postAcked(app, afterMessage({ id: '23', ...pair, sentAt: T + 10 }));
    await postAcked(
      app,
      currentReceipt({
        messageId: '23',
        reader: 'bob',
        messageSender: 'ann',
        kind: 'read',
        at: T + 12,
      }),
    );
    expect(
      await rows(
        `SELECT message_id, implied FROM receipts WHERE kind = 'read' ORDER BY message_id`,
      ),
    ).toEqual([
      { message_id: '20', implied: true },
      { message_id: '23', implied: false },
    ]);

    const conversations = await app.inject({
      method: 'GET',
      url: `/analytics/conversations?from=${T}&to=${T + 60}`,
    });
    expect(conversations.json().items).toEqual([
      expect.objectContaining({
        conversationId: 'ann_user_bob',
        messages: 2,
        edited: 1,
        deleted: 0,
      }),
    ]);
    const latency = await app.inject({
      method: 'GET',
      url: `/analytics/read-latency?from=${T}&to=${T + 60}&includeImplied=true`,
    });
    expect(latency.json()).toMatchObject({ count: 2, unmatched: 0 });
  });
});
