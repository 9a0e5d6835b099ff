import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { FixedClock } from '../src/common/clock';
import { DerivationRunner } from '../src/ingest/derivation-runner.service';
import { requeueForRederive } from '../src/ingest/rederive';
import {
  APP,
  actionMessage,
  afterMessage,
  currentReceipt,
  groupCreated,
  groupMemberEvent,
  legacyReceipt,
  messageEvent,
} from './factories';
import { getJson, isoSeconds, post, postAcked } from './setup/http';
import { resetDatabase, rows, startApp, testDatabaseUrl } from './setup/test-app';
import { shuffled } from './setup/traffic';

/**
 * Unread counts, worked by hand on one small story told in several arrival orders. Times are
 * seconds after T, as CometChat sends them.
 *
 * One-to-one, alice → bob: d1 T+0, d2 T+10, d3 T+20, d5 T+40 (deleted at T+45), d6 T+50
 * (edited at T+55 by action message a6); bob → alice: d4 T+30. bob reads d2 at T+100 (so d1
 * too, implied). bob: d3, d6 unread; alice: d4.
 *
 * Group g1, membership known: created by alice at T+0; bob joins T+5, leaves T+25; carol is
 * added T+15, banned T+35 and unbanned T+40 (which does not make her a member again); dave joins
 * T+60. Messages: g10 alice T+1, g11 alice T+10, g12 carol T+20, g13 alice T+30, g14 alice T+45,
 * g15 dave T+70. bob reads g11 at T+12.
 *   bob [T+5, T+25): g11 read, g12 unread.  carol [T+15, T+35): g13.  alice [T+0, ∞): g12, g15.
 *   dave [T+60, ∞): only his own g15.
 *
 * Group g2, no member events (membership inferred: whoever sent or had a receipt there is a
 * member for all its messages): h20 dave T+1, h21 erin T+2, h22 dave T+3; frank has a delivery
 * receipt for h22 (T+8), gina reads h21 at T+9.
 *   dave: h21.  erin: h20, h22.  frank: h20, h21, h22.  gina: h22 (h20, h21 read).
 */
const T = 1_700_000_000;
const at = (s: number) => isoSeconds(T + s);

const direct = (id: string, sender: string, receiver: string, s: number) =>
  afterMessage({ id, sender, receiver, sentAt: T + s });
const inGroup = (id: string, sender: string, group: string, s: number) =>
  messageEvent('message_sent', {
    id,
    sender,
    receiver: group,
    receiverType: 'group',
    sentAt: T + s,
  });
const read = (
  messageId: string,
  reader: string,
  messageSender: string,
  s: number,
  group?: string,
) =>
  currentReceipt({
    messageId,
    reader,
    messageSender,
    kind: 'read',
    at: T + s,
    ...(group ? { receiverType: 'group' as const, receiver: group } : {}),
  });

const STORY = [
  direct('d1', 'alice', 'bob', 0),
  direct('d2', 'alice', 'bob', 10),
  direct('d3', 'alice', 'bob', 20),
  direct('d4', 'bob', 'alice', 30),
  messageEvent('message_sent', { id: 'd5', sender: 'alice', receiver: 'bob', sentAt: T + 40 }),
  messageEvent('message_deleted', {
    id: 'd5',
    sender: 'alice',
    receiver: 'bob',
    sentAt: T + 40,
    deletedAt: T + 45,
  }),
  direct('d6', 'alice', 'bob', 50),
  actionMessage('message_edited', {
    id: 'd6',
    sender: 'alice',
    receiver: 'bob',
    sentAt: T + 50,
    actionId: 'a6',
    action: 'edited',
    at: T + 55,
  }),
  read('d2', 'bob', 'alice', 100),

  groupCreated({ group: 'g1', owner: 'alice', at: T }),
  groupMemberEvent('group_member_joined', { group: 'g1', members: ['bob'], at: T + 5 }),
  groupMemberEvent('group_member_added', {
    group: 'g1',
    members: ['carol'],
    at: T + 15,
    by: 'alice',
  }),
  groupMemberEvent('group_member_left', { group: 'g1', members: ['bob'], at: T + 25 }),
  groupMemberEvent('group_member_banned', {
    group: 'g1',
    members: ['carol'],
    at: T + 35,
    by: 'alice',
  }),
  groupMemberEvent('group_member_unbanned', {
    group: 'g1',
    members: ['carol'],
    at: T + 40,
    by: 'alice',
  }),
  groupMemberEvent('group_member_joined', { group: 'g1', members: ['dave'], joinedAt: T + 60 }),
  inGroup('g10', 'alice', 'g1', 1),
  inGroup('g11', 'alice', 'g1', 10),
  inGroup('g12', 'carol', 'g1', 20),
  inGroup('g13', 'alice', 'g1', 30),
  inGroup('g14', 'alice', 'g1', 45),
  inGroup('g15', 'dave', 'g1', 70),
  read('g11', 'bob', 'alice', 12, 'g1'),

  inGroup('h20', 'dave', 'g2', 1),
  inGroup('h21', 'erin', 'g2', 2),
  inGroup('h22', 'dave', 'g2', 3),
  legacyReceipt({
    messageId: 'h22',
    reader: 'frank',
    messageSender: 'dave',
    kind: 'delivered',
    at: T + 8,
    receiverType: 'group',
    receiver: 'g2',
  }),
  read('h21', 'gina', 'erin', 9, 'g2'),
];

interface Item {
  conversationId: string;
  unread: number;
  oldestUnreadSentAt: string;
  newestUnreadSentAt: string;
  lastReadAt: string | null;
  membership: 'known' | 'inferred';
}
const oneToOne = (unread: number, oldest: number, newest: number, lastRead: number | null) => ({
  conversationId: expect.stringMatching(/_user_/) as string,
  receiverType: 'user',
  guid: null,
  unread,
  oldestUnreadSentAt: at(oldest),
  newestUnreadSentAt: at(newest),
  lastReadAt: lastRead === null ? null : at(lastRead),
  membership: 'known',
});
const group = (
  guid: string,
  unread: number,
  oldest: number,
  newest: number,
  lastRead: number | null,
  membership: 'known' | 'inferred' = 'known',
) => ({
  conversationId: `group_${guid}`,
  receiverType: 'group',
  guid,
  unread,
  oldestUnreadSentAt: at(oldest),
  newestUnreadSentAt: at(newest),
  lastReadAt: lastRead === null ? null : at(lastRead),
  membership,
});

/** Each user's answer, as worked out above. */
const EXPECTED: Record<string, { total: number; inferred: number; items: unknown[] }> = {
  alice: {
    total: 3,
    inferred: 0,
    items: [group('g1', 2, 20, 70, null), oneToOne(1, 30, 30, null)],
  },
  bob: { total: 3, inferred: 0, items: [oneToOne(2, 20, 50, 100), group('g1', 1, 20, 20, 12)] },
  carol: { total: 1, inferred: 0, items: [group('g1', 1, 30, 30, null)] },
  dave: { total: 1, inferred: 1, items: [group('g2', 1, 2, 2, null, 'inferred')] },
  erin: { total: 2, inferred: 2, items: [group('g2', 2, 1, 3, null, 'inferred')] },
  frank: { total: 3, inferred: 3, items: [group('g2', 3, 1, 3, null, 'inferred')] },
  gina: { total: 1, inferred: 1, items: [group('g2', 1, 3, 3, 9, 'inferred')] },
};

const ORDERS: [string, object[]][] = [
  ['as it happened', STORY],
  ['in reverse (receipts and member events before their messages)', [...STORY].reverse()],
  ['shuffled (seed 7)', shuffled(STORY, 7)],
  ['shuffled (seed 21)', shuffled(STORY, 21)],
];

/** The clock the analytics answer from: T+100 s. */
const NOW = (T + 100) * 1000;

describe('unread counts', () => {
  let app: NestFastifyApplication;

  const unreadOf = async (uid: string, extra = '') => {
    const res = await getJson(app, `/users/${uid}/unread?appId=${APP}${extra}`);
    expect(res.status).toBe(200);
    return res.body as {
      total: number;
      inferred: number;
      items: Item[];
      nextCursor: string | null;
    };
  };
  const answers = async () => {
    const out: Record<string, unknown> = {};
    for (const uid of Object.keys(EXPECTED)) {
      const { total, inferred, items } = await unreadOf(uid);
      out[uid] = { total, inferred, items };
    }
    return out;
  };

  beforeAll(async () => {
    app = await startApp({}, testDatabaseUrl(), { clock: new FixedClock(NOW) });
  });
  afterAll(() => app.close());
  beforeEach(() => resetDatabase());

  describe('GET /users/:uid/unread', () => {
    it.each(ORDERS)('answers the story told %s', async (_, events) => {
      for (const body of events) {
        await postAcked(app, body);
      }
      expect(await answers()).toEqual(EXPECTED);
    });

    it('answers the same when the whole story is derived in one batch', async () => {
      const quiet = await startApp({ DERIVE_ENABLED: 'false' });
      try {
        for (const body of shuffled(STORY, 3)) {
          await postAcked(quiet, body);
        }
        await quiet.get(DerivationRunner).drain();
      } finally {
        await quiet.close();
      }
      expect(await answers()).toEqual(EXPECTED);
    });

    it('answers the same after redeliveries, and after a rebuild from the log', async () => {
      await postAll(STORY);
      // A redelivery with other bytes (the member's lastActiveAt moved) is a new raw event with
      // the same meaning.
      const again = groupMemberEvent('group_member_left', {
        group: 'g1',
        members: ['bob'],
        at: T + 25,
      });
      (
        again.data as { members: Record<string, { lastActiveAt: number }> }
      ).members.bob.lastActiveAt += 99;
      expect((await postAcked(app, again)).duplicate).toBe(false);
      await postAll(STORY.slice(0, 12));
      expect(await answers()).toEqual(EXPECTED);

      const before = await state();
      const pool = new Pool({ connectionString: testDatabaseUrl() });
      try {
        await requeueForRederive(pool, { appId: APP });
      } finally {
        await pool.end();
      }
      await app.get(DerivationRunner).drain();
      expect(await state()).toEqual(before);
      expect(await answers()).toEqual(EXPECTED);
    });

    it('keeps membership as intervals, one event each, whatever the order', async () => {
      await postAll([...STORY].reverse());
      expect(
        await rows(
          `SELECT guid, uid, NULLIF(joined_at, '-infinity') AS joined_at, left_at
             FROM group_memberships ORDER BY guid, uid, joined_at`,
        ),
      ).toEqual([
        { guid: 'g1', uid: 'alice', joined_at: new Date((T + 0) * 1000), left_at: null },
        {
          guid: 'g1',
          uid: 'bob',
          joined_at: new Date((T + 5) * 1000),
          left_at: new Date((T + 25) * 1000),
        },
        {
          guid: 'g1',
          uid: 'carol',
          joined_at: new Date((T + 15) * 1000),
          left_at: new Date((T + 35) * 1000),
        },
        { guid: 'g1', uid: 'dave', joined_at: new Date((T + 60) * 1000), left_at: null },
      ]);
      expect(
        await rows(
          `SELECT change, count(*)::int AS n FROM group_member_events GROUP BY change ORDER BY change`,
        ),
      ).toEqual([
        { change: 'added', n: 1 },
        { change: 'banned', n: 1 },
        { change: 'created', n: 1 },
        { change: 'joined', n: 2 },
        { change: 'left', n: 1 },
        { change: 'unbanned', n: 1 },
      ]);
    });

    it('counts a member whose first known event is a leave as a member until then', async () => {
      await postAll([
        inGroup('k1', 'alice', 'g3', 1),
        inGroup('k2', 'alice', 'g3', 5),
        groupMemberEvent('group_member_kicked', {
          group: 'g3',
          members: ['zoe'],
          at: T + 3,
          by: 'alice',
        }),
      ]);
      expect(await unreadOf('zoe')).toMatchObject({
        total: 1,
        inferred: 0,
        items: [group('g3', 1, 1, 1, null)],
      });
    });

    it('takes the time a member event was received when its payload has none', async () => {
      // Added without group.updatedAt or member joinedAt: received now, after every message.
      await postAll([
        inGroup('n1', 'alice', 'g4', 1),
        groupMemberEvent('group_member_added', { group: 'g4', members: ['yves'], by: 'alice' }),
      ]);
      const [{ received }] = await rows<{ received: Date }>(
        `SELECT received_at AS received FROM webhook_events WHERE trigger = 'group_member_added'`,
      );
      expect(await rows(`SELECT uid, at FROM group_member_events`)).toEqual([
        { uid: 'yves', at: received },
      ]);
      expect(await unreadOf('yves')).toMatchObject({ total: 0, items: [] });
    });

    it('reads a read receipt that came before its message once the message comes', async () => {
      await postAll([read('r2', 'bob', 'alice', 30), direct('r3', 'alice', 'bob', 25)]);
      expect(await unreadOf('bob')).toMatchObject({ total: 1 });
      await postAll([direct('r1', 'alice', 'bob', 10), direct('r2', 'alice', 'bob', 20)]);
      // r2 read explicitly, r1 by implication; r3 (T+25) is after it.
      expect(await unreadOf('bob')).toMatchObject({
        total: 1,
        items: [oneToOne(1, 25, 25, 30)],
      });
    });

    it('pages conversations newest unread first, the totals over all of them', async () => {
      await postAll(STORY);
      const first = await unreadOf('bob', '&limit=1');
      expect(first).toMatchObject({
        total: 3,
        conversations: 2,
        items: [oneToOne(2, 20, 50, 100)],
      });
      const second = await unreadOf('bob', `&limit=1&cursor=${first.nextCursor}`);
      expect(second).toMatchObject({
        total: 3,
        items: [group('g1', 1, 20, 20, 12)],
        nextCursor: null,
      });
    });

    it('answers 404 for a user with no conversation, 200 with nothing for one with nothing unread', async () => {
      await postAll(STORY);
      expect((await getJson(app, `/users/henry/unread?appId=${APP}`)).status).toBe(404);
      expect((await getJson(app, `/users/henry/unread`)).status).toBe(404);
      // dave's g1 row exists (a member), with only his own message.
      expect(await unreadOf('dave')).toMatchObject({ conversations: 1 });
      await postAll([read('h21', 'dave', 'erin', 90, 'g2')]);
      expect(await getJson(app, '/users/dave/unread')).toEqual({
        status: 200,
        body: {
          uid: 'dave',
          appId: APP,
          total: 0,
          conversations: 0,
          inferred: 0,
          items: [],
          nextCursor: null,
        },
      });
    });

    it('refuses a bad cursor or limit naming it', async () => {
      await postAll(STORY);
      for (const [query, field] of [
        ['cursor=nope', 'cursor'],
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
      ]) {
        const res = await getJson(app, `/users/bob/unread?appId=${APP}&${query}`);
        expect(res).toMatchObject({ status: 400, body: { field } });
      }
    });
  });

  describe('GET /analytics/unread', () => {
    const list = async (query: string) => {
      const res = await getJson(app, `/analytics/unread?appId=${APP}&${query}`);
      expect(res.status).toBe(200);
      return res.body as { before: string; items: unknown[]; nextCursor: string | null };
    };
    const user = (
      uid: string,
      unread: number,
      conversations: number,
      oldest: number,
      inferred = 0,
    ) => ({
      appId: APP,
      uid,
      unread,
      conversations,
      oldestUnreadSentAt: at(oldest),
      inferred,
    });

    it.each(ORDERS.slice(0, 2))(
      'lists users with messages unread since before now minus olderThan (story told %s)',
      async (_, events) => {
        await postAll(events);
        // Now is T+100: 60s reaches back to T+40.
        expect(await list('olderThan=60s')).toEqual({
          olderThan: '60s',
          before: at(40),
          items: [
            user('alice', 2, 2, 20), // d4 (T+30), g12 (T+20); not g15 (T+70)
            user('bob', 2, 2, 20), // d3, g12; not d6 (T+50)
            user('carol', 1, 1, 30),
            user('dave', 1, 1, 2, 1),
            user('erin', 2, 1, 1, 2),
            user('frank', 3, 1, 1, 3),
            user('gina', 1, 1, 3, 1),
          ],
          nextCursor: null,
        });
        // 75 s: before T+25. carol's g13 (T+30) is too recent; alice keeps only g12.
        expect((await list('olderThan=75000ms')).items).toEqual([
          user('alice', 1, 1, 20),
          user('bob', 2, 2, 20),
          user('dave', 1, 1, 2, 1),
          user('erin', 2, 1, 1, 2),
          user('frank', 3, 1, 1, 3),
          user('gina', 1, 1, 3, 1),
        ]);
        expect(await list('olderThan=2m')).toMatchObject({ before: at(-20), items: [] });
      },
    );

    it('defaults to 24 hours, and pages by uid', async () => {
      await postAll(STORY);
      expect(await list('')).toMatchObject({
        olderThan: '24h',
        before: at(100 - 86_400),
        items: [],
      });
      const first = await list('olderThan=0s&limit=3');
      expect(first.items.map((i) => (i as { uid: string }).uid)).toEqual(['alice', 'bob', 'carol']);
      const second = await list(`olderThan=0s&limit=3&cursor=${first.nextCursor}`);
      expect(second.items.map((i) => (i as { uid: string }).uid)).toEqual([
        'dave',
        'erin',
        'frank',
      ]);
      const third = await list(`olderThan=0s&limit=3&cursor=${second.nextCursor}`);
      expect(third).toMatchObject({ items: [user('gina', 1, 1, 3, 1)], nextCursor: null });
      // With olderThan=0 every unread message counts: bob's d6 too.
      expect(first.items[1]).toEqual(user('bob', 3, 2, 20));
    });

    it('lists every app without appId, each user with its app', async () => {
      await postAll([
        direct('x1', 'alice', 'bob', 1),
        afterMessage({
          id: 'x1',
          sender: 'alice',
          receiver: 'bob',
          sentAt: T + 2,
          appId: 'app-two',
        }),
      ]);
      const res = await getJson(app, '/analytics/unread?olderThan=1s&limit=1');
      expect(res.body).toMatchObject({ items: [{ appId: APP, uid: 'bob', unread: 1 }] });
      const next = await getJson(
        app,
        `/analytics/unread?olderThan=1s&limit=1&cursor=${(res.body as { nextCursor: string }).nextCursor}`,
      );
      expect(next.body).toMatchObject({
        items: [{ appId: 'app-two', uid: 'bob', unread: 1, oldestUnreadSentAt: at(2) }],
        nextCursor: null,
      });
    });

    it('refuses an olderThan that is no duration, or reaches before year 1', async () => {
      for (const value of ['24', 'h', '1.5h', '-1h', '24 h', '1y', '999999999w']) {
        const res = await getJson(app, `/analytics/unread?olderThan=${encodeURIComponent(value)}`);
        expect({ value, res }).toMatchObject({
          value,
          res: { status: 400, body: { field: 'olderThan' } },
        });
      }
    });
  });

  async function postAll(events: object[]) {
    for (const body of events) {
      const res = await post(app, body);
      expect(res.statusCode).toBe(200);
    }
  }

  function state() {
    return rows(
      `SELECT json_build_object(
         'events', (SELECT json_agg(e ORDER BY guid, uid, at, change) FROM group_member_events e),
         'memberships', (SELECT json_agg(g ORDER BY guid, uid, joined_at) FROM group_memberships g),
         'conversations', (SELECT json_agg(c ORDER BY uid, conversation_id) FROM user_conversations c)
       ) AS state`,
    );
  }
});
