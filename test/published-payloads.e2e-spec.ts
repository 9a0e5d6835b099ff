import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { get, isoSeconds, post } from './setup/http';

/**
 * Every sample payload CometChat publishes (test/fixtures/published, see its README), posted as
 * CometChat posts it: the file's bytes, Content-Type application/json. The connection triggers'
 * samples are covered by their own spec.
 */
const DIR = path.join(__dirname, 'fixtures', 'published');
const CONNECTION_SAMPLE = /^(after_connection_status_changed|user_connection_status_changed)[.]/;
const sample = (file: string) => readFileSync(path.join(DIR, file), 'utf8');

const CURRENT_APP = '<appId>'; // the documentation's placeholder, a usable app id
const LEGACY_APP = '167*****1529';

/**
 * Triggers the store keeps raw and derives nothing from: no message from the moderation samples'
 * data.message, no call or meeting state, no group state beyond membership (scope, name, owner,
 * deletion).
 */
const RAW_ONLY = [
  'call_ended.json',
  'call_initiated.json',
  'call_participant_joined.json',
  'call_participant_left.json',
  'call_started.json',
  'group_deleted.json',
  'group_member_scope_changed.json',
  'group_owner_transferred.json',
  'group_updated.json',
  'meeting_ended.json',
  'meeting_participant_joined.json',
  'meeting_participant_left.json',
  'meeting_started.json',
  'message_reaction_added.json',
  'message_reaction_removed.json',
  'moderation_engine_approved.filter_failure.json',
  'moderation_engine_approved.json',
  'moderation_engine_blocked.json',
  'moderation_manual_approved.json',
  'recording_generated.json',
  'user_blocked.json',
  'user_mentioned.json',
  'user_unblocked.json',
];
/** Group member events: membership (group_member_events, group_memberships), see unread counts. */
const MEMBERSHIP = [
  'group_created.json',
  'group_member_added.json',
  'group_member_banned.json',
  'group_member_joined.json',
  'group_member_kicked.json',
  'group_member_left.json',
  'group_member_unbanned.json',
];
const DERIVING = [
  'after_message.json',
  'before_message.json',
  'message_deleted.json',
  'message_delivered_to_all.json',
  'message_delivery_receipt.current.json',
  'message_delivery_receipt.legacy.json',
  'message_edited.json',
  'message_read_by_all.json',
  'message_read_receipt.current.json',
  'message_read_receipt.legacy.json',
  'message_sent.json',
];

describe('published CometChat sample payloads', () => {
  let app: NestFastifyApplication;

  const postSample = (file: string) => post(app, sample(file));
  const q = (appId: string) => `appId=${encodeURIComponent(appId)}`;
  const derivedCounts = async () =>
    (
      await rows<Record<string, number>>(
        `SELECT (SELECT count(*)::int FROM messages) AS messages,
                (SELECT count(*)::int FROM receipts) AS receipts,
                (SELECT count(*)::int FROM group_receipts) AS group_receipts,
                (SELECT count(*)::int FROM connection_events) AS connection_events,
                (SELECT count(*)::int FROM group_member_events) AS group_member_events`,
      )
    )[0];
  const rawEvents = () =>
    rows<{ app_id: string; trigger: string }>(
      `SELECT app_id, trigger FROM webhook_events ORDER BY id`,
    );

  beforeAll(async () => {
    app = await startApp();
  });
  beforeEach(() => resetDatabase());
  afterAll(() => app.close());

  it('covers every sample in the folder but the connection ones', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && !CONNECTION_SAMPLE.test(f));
    expect(files.sort()).toEqual([...RAW_ONLY, ...MEMBERSHIP, ...DERIVING].sort());
  });

  it('answers before_message with exactly {} and keeps it raw, no message yet', async () => {
    const res = await postSample('before_message.json');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{}');
    expect(await rawEvents()).toEqual([{ app_id: LEGACY_APP, trigger: 'before_message' }]);
    expect(await derivedCounts()).toMatchObject({ messages: 0 });
  });

  it('turns after_message (legacy) into message 1', async () => {
    const res = await postSample('after_message.json');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ duplicate: false });
    const message = await get(app, `/messages/1?${q(LEGACY_APP)}`);
    expect(message.json()).toEqual({
      id: '1',
      appId: LEGACY_APP,
      sender: 'cometchat-uid-5',
      receiver: 'cometchat-uid-4',
      receiverType: 'user',
      conversationId: 'cometchat-uid-4_user_cometchat-uid-5',
      category: 'message',
      type: 'text',
      sentAt: isoSeconds(1586435925),
      editedAt: null,
      deletedAt: null,
    });
  });

  it('turns message_sent into message 1, and its redelivery changes nothing', async () => {
    expect((await postSample('message_sent.json')).json()).toMatchObject({ duplicate: false });
    expect((await postSample('message_sent.json')).json()).toMatchObject({ duplicate: true });
    expect((await get(app, `/messages/1?${q(CURRENT_APP)}`)).json()).toMatchObject({
      sender: 'cometchat-uid-1',
      receiver: 'cometchat-uid-2',
      conversationId: 'cometchat-uid-1_user_cometchat-uid-2',
      sentAt: isoSeconds(1696934912),
      editedAt: null,
    });
    expect(await derivedCounts()).toMatchObject({ messages: 1 });
  });

  // The samples' own ids: action 2 edits message 1, action 3 deletes message 2.
  it('marks the targets of message_edited and message_deleted, in any arrival order', async () => {
    const files = ['message_sent.json', 'message_edited.json', 'message_deleted.json'];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    const answers: unknown[] = [];
    for (const order of orders) {
      await resetDatabase();
      for (const i of order) {
        const res = await postSample(files[i]);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ duplicate: false });
      }
      const one = await get(app, `/messages/1?${q(CURRENT_APP)}`);
      const two = await get(app, `/messages/2?${q(CURRENT_APP)}`);
      const three = await get(app, `/messages/3?${q(CURRENT_APP)}`);
      expect(three.statusCode).toBe(404); // the delete's own action message is no message
      answers.push([one.json(), two.json(), await derivedCounts()]);
    }
    expect(answers[0]).toEqual([
      {
        id: '1',
        appId: CURRENT_APP,
        sender: 'cometchat-uid-1',
        receiver: 'cometchat-uid-2',
        receiverType: 'user',
        conversationId: 'cometchat-uid-1_user_cometchat-uid-2',
        category: 'message',
        type: 'text',
        sentAt: isoSeconds(1696934912),
        editedAt: isoSeconds(1696934985),
        deletedAt: null,
      },
      {
        id: '2',
        appId: CURRENT_APP,
        sender: 'cometchat-uid-1',
        receiver: 'cometchat-uid-2',
        receiverType: 'user',
        conversationId: 'cometchat-uid-1_user_cometchat-uid-2',
        category: 'message',
        type: 'text',
        sentAt: isoSeconds(1696934912),
        editedAt: null,
        deletedAt: isoSeconds(1696935005),
      },
      { messages: 2, receipts: 0, group_receipts: 0, connection_events: 0, group_member_events: 0 },
    ]);
    for (const answer of answers) {
      expect(answer).toEqual(answers[0]);
    }

    expect((await get(app, `/messages/1/receipts?${q(CURRENT_APP)}`)).json()).toMatchObject({
      category: 'message',
      type: 'text',
      sentAt: isoSeconds(1696934912),
      editedAt: isoSeconds(1696934985),
      deletedAt: null,
    });
  });

  it('keeps both current-format receipts for message 57, read by cometchat-uid-2', async () => {
    for (const file of [
      'message_delivery_receipt.current.json',
      'message_read_receipt.current.json',
    ]) {
      const res = await postSample(file);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ duplicate: false });
    }
    const res = await get(app, `/messages/57/receipts?${q(CURRENT_APP)}`);
    expect(res.json()).toEqual({
      messageId: '57',
      appId: CURRENT_APP,
      sender: 'cometchat-uid-1',
      receiver: 'cometchat-uid-2',
      receiverType: 'user',
      conversationId: null,
      category: null,
      type: null,
      sentAt: null,
      editedAt: null,
      deletedAt: null,
      delivered: [
        { uid: 'cometchat-uid-2', at: isoSeconds(1696934912), latencyMs: null, implied: false },
      ],
      read: [
        { uid: 'cometchat-uid-2', at: isoSeconds(1696934950), latencyMs: null, implied: false },
      ],
      summary: {
        recipients: 1,
        deliveredCount: 1,
        readCount: 1,
        deliveredToAllAt: isoSeconds(1696934912),
        readByAllAt: isoSeconds(1696934950),
      },
    });
  });

  it('answers the legacy receipts, whose receiverType is the placeholder "user|group", with 400 and keeps them', async () => {
    for (const file of [
      'message_delivery_receipt.legacy.json',
      'message_read_receipt.legacy.json',
    ]) {
      const res = await postSample(file);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        field: 'data.receiverType',
        message: expect.stringContaining('data.receiverType must be one of user, group'),
      });
    }
    const rejected = await rows<{ body: Buffer; field: string }>(
      `SELECT body, field FROM rejected_events ORDER BY id`,
    );
    expect(rejected.map((r) => [r.field, r.body.toString('utf8')])).toEqual([
      ['data.receiverType', sample('message_delivery_receipt.legacy.json')],
      ['data.receiverType', sample('message_read_receipt.legacy.json')],
    ]);
    expect(await rawEvents()).toEqual([]);
  });

  it('answers group message 385, never seen, with the sender and group its aggregates name', async () => {
    for (const file of ['message_delivered_to_all.json', 'message_read_by_all.json']) {
      const res = await postSample(file);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ duplicate: false });
    }
    expect((await get(app, `/messages/385/receipts?${q(CURRENT_APP)}`)).json()).toEqual({
      messageId: '385',
      appId: CURRENT_APP,
      sender: 'superhero2',
      receiver: 'group__1720436412627',
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
        deliveredToAllAt: isoSeconds(1722245922),
        readByAllAt: isoSeconds(1722245922),
      },
    });
    expect(
      await rows(`SELECT kind, message_sender, receiver FROM group_receipts ORDER BY kind`),
    ).toEqual([
      { kind: 'deliveredToAll', message_sender: 'superhero2', receiver: 'group__1720436412627' },
      { kind: 'readByAll', message_sender: 'superhero2', receiver: 'group__1720436412627' },
    ]);
  });

  it.each(RAW_ONLY)('keeps %s raw, answered 200, and derives nothing from it', async (file) => {
    const trigger = (JSON.parse(sample(file)) as { trigger: string }).trigger;
    const res = await postSample(file);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ eventId: expect.any(String), duplicate: false });
    expect((await postSample(file)).json()).toMatchObject({ duplicate: true });
    expect(await rawEvents()).toEqual([{ app_id: CURRENT_APP, trigger }]);
    expect(await derivedCounts()).toEqual({
      messages: 0,
      receipts: 0,
      group_receipts: 0,
      connection_events: 0,
      group_member_events: 0,
    });
    const listed = await get(app, `/events?${q(CURRENT_APP)}&trigger=${trigger}`);
    expect(listed.json().items).toHaveLength(1);
  });

  describe('group member samples', () => {
    const GUID = 'cometchat-guid-1';
    /** What each sample says: its member, the change, and the time it carries (null: none). */
    const TOLD: Record<string, [string, string, number | null]> = {
      'group_created.json': ['cometchat-uid-1', 'created', 1696932915], // group.joinedAt
      'group_member_joined.json': ['cometchat-uid-2', 'joined', 1696933691], // group.updatedAt
      'group_member_added.json': ['cometchat-uid-2', 'added', null], // no time: received
      'group_member_left.json': ['cometchat-uid-2', 'left', 1696933827],
      'group_member_kicked.json': ['cometchat-uid-2', 'kicked', 1696933889],
      'group_member_banned.json': ['cometchat-uid-2', 'banned', 1696933533],
      'group_member_unbanned.json': ['cometchat-uid-2', 'unbanned', 1696933533],
    };
    const memberships = () =>
      rows<{ uid: string; joined_at: Date | null; left_at: Date | null }>(
        `SELECT uid, NULLIF(joined_at, '-infinity') AS joined_at, left_at
           FROM group_memberships ORDER BY uid, joined_at NULLS FIRST`,
      );
    const receivedAt = async (trigger: string) =>
      (
        await rows<{ at: Date }>(
          `SELECT received_at AS at FROM webhook_events WHERE trigger = $1`,
          [trigger],
        )
      )[0].at;

    it.each(MEMBERSHIP)('keeps what %s says of membership, once', async (file) => {
      const trigger = (JSON.parse(sample(file)) as { trigger: string }).trigger;
      const res = await postSample(file);
      expect(res.statusCode).toBe(200);
      expect((await postSample(file)).json()).toMatchObject({ duplicate: true });
      const [uid, change, seconds] = TOLD[file];
      const at = seconds === null ? await receivedAt(trigger) : new Date(seconds * 1000);
      expect(await rows(`SELECT app_id, guid, uid, change, at FROM group_member_events`)).toEqual([
        { app_id: CURRENT_APP, guid: GUID, uid, change, at },
      ]);
      expect(await derivedCounts()).toMatchObject({ messages: 0, receipts: 0 });
      // A join opens an interval; a leave, kick or ban first means a member until then; an
      // unban alone says nothing of membership.
      const joins = ['created', 'joined', 'added'].includes(change);
      expect(await memberships()).toEqual(
        change === 'unbanned'
          ? []
          : [joins ? { uid, joined_at: at, left_at: null } : { uid, joined_at: null, left_at: at }],
      );
      const unread = await get(app, `/users/${uid}/unread?${q(CURRENT_APP)}`);
      expect(unread.json()).toMatchObject({ total: 0, items: [] });
    });

    it('tells one story when posted together, in any order', async () => {
      for (const order of [MEMBERSHIP, [...MEMBERSHIP].reverse()]) {
        await resetDatabase();
        for (const file of order) {
          expect((await postSample(file)).statusCode).toBe(200);
        }
        const s = (seconds: number) => new Date(seconds * 1000);
        // uid-2: banned 1696933533 (a member until then), joined 1696933691, left 1696933827,
        // kicked 1696933889 (already gone), added when received (no time of its own).
        expect(await memberships()).toEqual([
          { uid: 'cometchat-uid-1', joined_at: s(1696932915), left_at: null },
          { uid: 'cometchat-uid-2', joined_at: null, left_at: s(1696933533) },
          { uid: 'cometchat-uid-2', joined_at: s(1696933691), left_at: s(1696933827) },
          {
            uid: 'cometchat-uid-2',
            joined_at: await receivedAt('group_member_added'),
            left_at: null,
          },
        ]);
      }
    });
  });
});
