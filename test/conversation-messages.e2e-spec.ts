import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConversationMessagesPageDto } from '../src/messages/conversations.dto';
import { actionMessage, afterMessage, currentReceipt } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { get, isoSeconds, postAll } from './setup/http';

const T = 1_763_000_000; // seconds
const PAIR = 'ann_user_bob';

describe('GET /conversations/:id/messages', () => {
  let app: NestFastifyApplication;
  const list = async (id: string, query = '') => {
    const res = await get(app, `/conversations/${encodeURIComponent(id)}/messages?${query}`);
    return { status: res.statusCode, body: res.json<ConversationMessagesPageDto>() };
  };
  const ids = (body: ConversationMessagesPageDto) => body.items.map((m) => m.id);

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    const ann = { sender: 'ann', receiver: 'bob' };
    await postAll(app, [
      afterMessage({ id: '1', ...ann, sentAt: T }),
      afterMessage({ id: '2', sender: 'bob', receiver: 'ann', sentAt: T + 10 }),
      afterMessage({ id: '3', ...ann, sentAt: T + 20 }),
      // bob reads 3 at T+26: message 1 is read too (implied), as receipts are cumulative.
      currentReceipt({
        messageId: '1',
        reader: 'bob',
        messageSender: 'ann',
        kind: 'delivered',
        at: T + 2,
      }),
      currentReceipt({
        messageId: '3',
        reader: 'bob',
        messageSender: 'ann',
        kind: 'read',
        at: T + 26,
      }),
      // A legacy edit of 3: an action message, which is no message of the conversation.
      actionMessage('after_message', {
        id: '3',
        ...ann,
        sentAt: T + 20,
        actionId: '4',
        action: 'edited',
        at: T + 40,
      }),
      afterMessage({ id: '5', ...ann, sentAt: T + 3600 }),
      afterMessage({ id: '9', sender: 'cat', receiver: 'dan', sentAt: T }),
      afterMessage({ appId: 'app-two', id: '1', sender: 'cat', receiver: 'dan', sentAt: T }),
    ]);
  });
  afterAll(() => app.close());

  it('lists the messages newest first, with read state per recipient, never action messages', async () => {
    const { status, body } = await list(PAIR, `from=${T}&to=${T + 3600}`);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(['3', '2', '1']);
    expect(body.nextCursor).toBeNull();
    const [three, two, one] = body.items;
    expect(three).toMatchObject({
      appId: 'app-one',
      sender: 'ann',
      receiver: 'bob',
      receiverType: 'user',
      conversationId: PAIR,
      sentAt: isoSeconds(T + 20),
      editedAt: isoSeconds(T + 40),
      deletedAt: null,
      read: [{ uid: 'bob', at: isoSeconds(T + 26), latencyMs: 6000, implied: false }],
    });
    expect(two).toMatchObject({ sender: 'bob', editedAt: null, delivered: [] });
    expect(one.delivered).toEqual([
      { uid: 'bob', at: isoSeconds(T + 2), latencyMs: 2000, implied: false },
    ]);
    expect(one.read).toEqual([
      { uid: 'bob', at: isoSeconds(T + 26), latencyMs: 26_000, implied: true },
    ]);
  });

  it('pages with limit and cursor, [from, to) half-open', async () => {
    const first = await list(PAIR, 'limit=2');
    expect(ids(first.body)).toEqual(['5', '3']);
    const second = await list(PAIR, `limit=2&cursor=${first.body.nextCursor}`);
    expect(ids(second.body)).toEqual(['2', '1']);
    expect(second.body.nextCursor).toBeNull();
    expect(ids((await list(PAIR, `from=${T + 10}&to=${T + 20}`)).body)).toEqual(['2']);
  });

  it('asks for appId when the conversation is in several apps; an unknown one has no messages', async () => {
    const ambiguous = await get(app, '/conversations/cat_user_dan/messages');
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json()).toMatchObject({ field: 'appId' });
    expect(ids((await list('cat_user_dan', 'appId=app-two')).body)).toEqual(['1']);
    expect((await list('nobody_user_none')).body).toEqual({ items: [], nextCursor: null });
  });

  it('answers 400 naming a bad parameter', async () => {
    for (const [query, field] of [
      ['cursor=nope', 'cursor'],
      [`from=${T + 10}&to=${T}`, 'from'],
      ['limit=0', 'limit'],
    ]) {
      const res = await get(app, `/conversations/${PAIR}/messages?${query}`);
      expect({ query, status: res.statusCode }).toEqual({ query, status: 400 });
      if (field !== 'limit') {
        expect(res.json()).toMatchObject({ field });
      }
    }
  });
});
