import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusyConversationsDto } from '../src/messages/conversations.dto';
import { actionMessage, afterMessage, currentReceipt, messageEvent } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { get, isoSeconds, post } from './setup/http';

const T = 1_763_000_000; // seconds

describe('GET /analytics/conversations', () => {
  let app: NestFastifyApplication;
  const busiest = (query: string) => get(app, `/analytics/conversations?${query}`);

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    // ann↔bob: 3 messages from both, two read; the group: 2 from one sender; cat→dan: 1, later.
    await post(app, afterMessage({ id: '1', sender: 'ann', receiver: 'bob', sentAt: T }));
    await post(
      app,
      messageEvent('message_sent', { id: '2', sender: 'bob', receiver: 'ann', sentAt: T + 10 }),
    );
    await post(app, afterMessage({ id: '3', sender: 'ann', receiver: 'bob', sentAt: T + 20 }));
    await post(
      app,
      currentReceipt({
        messageId: '1',
        reader: 'bob',
        messageSender: 'ann',
        kind: 'read',
        at: T + 4,
      }),
    );
    await post(
      app,
      currentReceipt({
        messageId: '3',
        reader: 'bob',
        messageSender: 'ann',
        kind: 'read',
        at: T + 26,
      }),
    );
    for (const id of ['4', '5']) {
      await post(
        app,
        afterMessage({
          id,
          sender: 'eve',
          receiver: 'team',
          receiverType: 'group',
          sentAt: T + 30,
        }),
      );
    }
    await post(app, afterMessage({ id: '6', sender: 'cat', receiver: 'dan', sentAt: T + 3600 }));
  });
  afterAll(() => app.close());

  it('lists the conversations with the most messages in the window first', async () => {
    const res = await busiest(`from=${T}&to=${T + 7200}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<BusyConversationsDto>()).toEqual({
      from: isoSeconds(T),
      to: isoSeconds(T + 7200),
      items: [
        {
          appId: 'app-one',
          conversationId: 'ann_user_bob',
          receiverType: 'user',
          messages: 3,
          edited: 0,
          deleted: 0,
          senders: 2,
          lastMessageAt: isoSeconds(T + 20),
          readP50Ms: 5000, // 4 s and 6 s; message 2's implied read is bob's own message: none
        },
        {
          appId: 'app-one',
          conversationId: 'group_team',
          receiverType: 'group',
          messages: 2,
          edited: 0,
          deleted: 0,
          senders: 1,
          lastMessageAt: isoSeconds(T + 30),
          readP50Ms: null,
        },
        {
          appId: 'app-one',
          conversationId: 'cat_user_dan',
          receiverType: 'user',
          messages: 1,
          edited: 0,
          deleted: 0,
          senders: 1,
          lastMessageAt: isoSeconds(T + 3600),
          readP50Ms: null,
        },
      ],
    });
  });

  it('counts messages sent in [from, to), of one receiver type, up to limit', async () => {
    const ids = async (query: string) =>
      (await busiest(query))
        .json<BusyConversationsDto>()
        .items.map((c) => [c.conversationId, c.messages]);
    // A tie goes to the conversation with the latest message.
    expect(await ids(`from=${T + 10}&to=${T + 3600}`)).toEqual([
      ['group_team', 2],
      ['ann_user_bob', 2],
    ]);
    expect(await ids(`from=${T}&to=${T + 7200}&receiverType=group`)).toEqual([['group_team', 2]]);
    expect(await ids(`from=${T}&to=${T + 7200}&limit=1`)).toEqual([['ann_user_bob', 3]]);
    expect(await ids(`from=${T}&to=${T + 7200}&appId=app-two`)).toEqual([]);
  });

  it('counts deleted messages apart: not messages, senders, last message or read latency', async () => {
    const T2 = T + 200_000;
    const pair = { sender: 'gil', receiver: 'hal' };
    for (const [id, at] of [
      ['31', T2],
      ['32', T2 + 10],
      ['33', T2 + 20],
    ] as const) {
      await post(app, afterMessage({ id, ...pair, sentAt: at }));
    }
    await post(app, afterMessage({ id: '34', sender: 'hal', receiver: 'gil', sentAt: T2 + 30 }));
    // 31 read after 2 s; 34 (hal's, deleted later) read after 100 s.
    await post(
      app,
      currentReceipt({
        messageId: '31',
        reader: 'hal',
        messageSender: 'gil',
        kind: 'read',
        at: T2 + 2,
      }),
    );
    await post(
      app,
      currentReceipt({
        messageId: '34',
        reader: 'gil',
        messageSender: 'hal',
        kind: 'read',
        at: T2 + 130,
      }),
    );
    // 32 edited, 33 and 34 deleted, the documented way (an action message naming its target).
    await post(
      app,
      actionMessage('message_edited', {
        id: '32',
        ...pair,
        sentAt: T2 + 10,
        actionId: '35',
        action: 'edited',
        at: T2 + 40,
      }),
    );
    await post(
      app,
      actionMessage('message_deleted', {
        id: '33',
        ...pair,
        sentAt: T2 + 20,
        actionId: '36',
        action: 'deleted',
        at: T2 + 50,
      }),
    );
    await post(
      app,
      actionMessage('after_message', {
        id: '34',
        sender: 'hal',
        receiver: 'gil',
        sentAt: T2 + 30,
        actionId: '37',
        action: 'deleted',
        at: T2 + 200,
      }),
    );
    // A conversation whose only message was deleted (before it arrived).
    await post(
      app,
      actionMessage('message_deleted', {
        id: '38',
        sender: 'ivy',
        receiver: 'jon',
        sentAt: T2 + 5,
        actionId: '39',
        action: 'deleted',
        at: T2 + 6,
      }),
    );
    await post(app, afterMessage({ id: '38', sender: 'ivy', receiver: 'jon', sentAt: T2 + 5 }));

    const res = await busiest(`from=${T2}&to=${T2 + 3600}`);
    expect(res.json<BusyConversationsDto>().items).toEqual([
      {
        appId: 'app-one',
        conversationId: 'gil_user_hal',
        receiverType: 'user',
        messages: 2,
        edited: 1,
        deleted: 2,
        senders: 1,
        lastMessageAt: isoSeconds(T2 + 10),
        readP50Ms: 2000,
      },
      {
        appId: 'app-one',
        conversationId: 'ivy_user_jon',
        receiverType: 'user',
        messages: 0,
        edited: 0,
        deleted: 1,
        senders: 0,
        lastMessageAt: null,
        readP50Ms: null,
      },
    ]);
  });

  it('defaults to the 24 hours before now', async () => {
    const body = (await busiest('')).json<BusyConversationsDto>();
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(86_400_000);
    expect(Math.abs(Date.parse(body.to) - Date.now())).toBeLessThan(60_000);
    expect(body.items).toEqual([]);
  });

  it('names the bad parameter', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['receiverType=channel', 'receiverType'],
      ['from=yesterday', 'from'],
      [`from=${T + 10}&to=${T}`, 'from'],
    ]) {
      const res = await busiest(query);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ field });
    }
  });
});
