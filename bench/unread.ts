import { Client } from 'pg';
import { unreadMessages } from '../src/unread/unread-messages';
import { Profile } from './profile';
import { Unavailable } from './queries';
import { QUERY_APP, Seeded, withoutIndexes } from './seed';
import { Service } from './service';
import { median, percentile, round1 } from './stats';

export interface UnreadSeeded {
  messages: number;
  unreadExtra: number;
  memberships: number;
  userConversations: number;
  withUnread: number;
  seconds: number;
}

export interface UnreadTiming {
  label: string;
  path: string;
  requests: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** Answers checked against the anti-join reference, and how many matched. */
  checked: number;
  matched: number;
}

export interface UnreadBench {
  seeded: UnreadSeeded;
  timings: UnreadTiming[];
}

/**
 * The unread measure on the query data set: messages for the seeded receipts (each one-to-one
 * message read by its one reader; group messages each read by one member), a tail of unread
 * one-to-one messages (1 in 50 deleted), group membership known for the even groups (their
 * senders and readers, members since before the first message) and inferred for the odd ones;
 * then user_conversations as derivation keeps it. Answers are checked against an anti-join
 * over all messages that knows nothing of the watermark table.
 */
export async function runUnread(
  sql: Client,
  service: Service,
  seeded: Seeded,
  profile: Profile,
  log: (line: string) => void,
): Promise<UnreadBench | Unavailable> {
  const probe = await get(service, `/analytics/unread?appId=${QUERY_APP}&limit=1`);
  if (probe.status !== 200) {
    return { unavailable: `GET /analytics/unread answered ${probe.status}` };
  }
  const started = Date.now();
  const seededUnread = await seedUnread(sql, seeded);
  seededUnread.seconds = Math.round((Date.now() - started) / 1000);
  log(
    `seeded ${seededUnread.messages} messages, ${seededUnread.userConversations} user conversations (${seededUnread.withUnread} with unread) in ${seededUnread.seconds} s`,
  );

  const { rows: sample } = await sql.query<{ uid: string }>(
    `SELECT uid FROM user_conversations TABLESAMPLE SYSTEM (1) REPEATABLE (7)
      WHERE app_id = $1 AND oldest_unread_at IS NOT NULL
      GROUP BY uid ORDER BY hashtext(uid) LIMIT $2`,
    [QUERY_APP, profile.unreadRequests],
  );
  const timings: UnreadTiming[] = [];
  const checkEvery = Math.max(1, Math.floor(sample.length / profile.unreadChecks));
  const perUser = await timeRequests(
    service,
    sample.map((s) => `/users/${s.uid}/unread?appId=${QUERY_APP}`),
    async (path, body, i) => {
      if (i % checkEvery !== 0) {
        return null;
      }
      const uid = decodeURIComponent(path.split('/')[2]);
      const expected = await reference(sql, uid, null);
      return (body as { total: number }).total === expected.count;
    },
  );
  timings.push({
    label: 'GET /users/:uid/unread (random users with unread)',
    path: '',
    ...perUser,
  });
  log(
    `unread per user: median ${perUser.medianMs} ms, p99 ${perUser.p99Ms} ms, max ${perUser.maxMs} ms`,
  );

  const cursor = Buffer.from(JSON.stringify([QUERY_APP, 'qu5'])).toString('base64url');
  const lists: [string, string][] = [
    ['re-engagement list, 24 h, first page of 50', 'olderThan=24h&limit=50'],
    ['re-engagement list, 24 h, page of 500', 'olderThan=24h&limit=500'],
    ['re-engagement list, 24 h, a page from the middle', `olderThan=24h&limit=50&cursor=${cursor}`],
    ['re-engagement list, 30 d', 'olderThan=30d&limit=50'],
    ['re-engagement list, sparse: unread 59 d', `olderThan=59d&limit=50`],
  ];
  for (const [label, query] of lists) {
    const path = `/analytics/unread?appId=${QUERY_APP}&${query}`;
    const timing = await timeRequests(
      service,
      Array.from({ length: profile.unreadListRepetitions }, () => path),
      async (_, body, i) => {
        if (i !== 0) {
          return null;
        }
        const page = body as { before: string; items: { uid: string; unread: number }[] };
        const checks = await Promise.all(
          page.items
            .slice(0, 3)
            .map(
              async (item) => (await reference(sql, item.uid, page.before)).count === item.unread,
            ),
        );
        return checks.every(Boolean);
      },
    );
    timings.push({ label, path, ...timing });
    log(`${label}: median ${timing.medianMs} ms, max ${timing.maxMs} ms`);
  }
  return { seeded: seededUnread, timings };
}

async function get(service: Service, path: string) {
  const started = performance.now();
  const response = await fetch(service.url + path, {
    headers: { authorization: service.apiAuth },
  });
  const body = await response.text();
  return { ms: performance.now() - started, status: response.status, body };
}

/** Sequential requests after one warm-up; `check` compares some answers with the reference. */
async function timeRequests(
  service: Service,
  paths: string[],
  check: (path: string, body: unknown, i: number) => Promise<boolean | null>,
): Promise<Omit<UnreadTiming, 'label' | 'path'>> {
  await get(service, paths[0]);
  const ms: number[] = [];
  let checked = 0;
  let matched = 0;
  for (const [i, path] of paths.entries()) {
    const r = await get(service, path);
    if (r.status !== 200) {
      throw new Error(`${path} answered ${r.status}: ${r.body.slice(0, 200)}`);
    }
    ms.push(round1(r.ms));
    const ok = await check(path, JSON.parse(r.body), i);
    if (ok !== null) {
      checked++;
      matched += ok ? 1 : 0;
    }
  }
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    requests: ms.length,
    medianMs: median(ms),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1)!,
    checked,
    matched,
  };
}

/**
 * The user's unread messages by the definition, straight from messages, receipts and
 * group_memberships: not theirs, not deleted, sent to them or to a group while a member (known
 * from intervals, else inferred from having sent or had a receipt there), and no read receipt of
 * theirs for it or for a later message of the conversation. A scan of every message.
 */
async function reference(
  sql: Client,
  uid: string,
  before: string | null,
): Promise<{ count: number }> {
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages m
      WHERE m.app_id = $1 AND m.sender <> $2 AND m.deleted_at IS NULL
        AND m.category IS DISTINCT FROM 'action'
        AND ($3::timestamptz IS NULL OR m.sent_at < $3::timestamptz)
        AND ((m.receiver_type = 'user' AND m.receiver = $2)
             OR (m.receiver_type = 'group'
                 AND (EXISTS (SELECT 1 FROM group_memberships g
                               WHERE g.app_id = m.app_id AND g.guid = m.receiver AND g.uid = $2
                                 AND g.joined_at <= m.sent_at AND (g.left_at IS NULL OR m.sent_at < g.left_at))
                      OR (NOT EXISTS (SELECT 1 FROM group_memberships g
                                       WHERE g.app_id = m.app_id AND g.guid = m.receiver AND g.uid = $2)
                          AND (EXISTS (SELECT 1 FROM messages s
                                        WHERE s.app_id = m.app_id AND s.conversation_id = m.conversation_id
                                          AND s.sender = $2)
                               OR EXISTS (SELECT 1 FROM receipts r
                                           WHERE r.app_id = m.app_id AND r.conversation_id = m.conversation_id
                                             AND r.reader = $2))))))
        AND NOT EXISTS (SELECT 1 FROM receipts r
                         WHERE r.app_id = m.app_id AND r.conversation_id = m.conversation_id
                           AND r.reader = $2 AND r.kind = 'read' AND r.sent_at >= m.sent_at)`,
    [QUERY_APP, uid, before],
  );
  return { count: rows[0].n };
}

export async function seedUnread(sql: Client, seeded: Seeded): Promise<UnreadSeeded> {
  const half = Math.floor(seeded.receipts / 2);
  const extra = Math.floor(seeded.receipts / 20);
  const span = (seeded.to.getTime() - seeded.from.getTime()) / 1000;
  // The seeded receipts' messages are there already (seed.ts); add the unread tail.
  await withoutIndexes(sql, ['messages'], async () => {
    // Unread one-to-one messages nobody has a receipt for, spread over the days; 1 in 50 deleted.
    await sql.query(
      `INSERT INTO messages (app_id, id, conversation_id, sender, receiver, receiver_type,
                             category, type, sent_at, deleted_at, event_id)
       SELECT $1, 'qx' || e, 'qu' || least(sender, reader) || '_user_qu' || greatest(sender, reader),
              'qu' || sender, 'qu' || reader, 'user', 'message', 'text', sent_at,
              CASE WHEN e % 50 = 0 THEN sent_at + interval '1 minute' END, $5 + e
         FROM (SELECT e, (e * 31337 + 7) % $2 AS sender, (e * 7927 + 11) % $2 AS reader,
                      $3::timestamptz + e * ($4::float8 / $6) * interval '1 second' AS sent_at
                 FROM generate_series(0::bigint, $6::bigint - 1) AS e) x`,
      [QUERY_APP, seeded.users, seeded.from, span, half, extra],
    );
  });

  const from = new Date(seeded.from.getTime() - 86_400_000);
  await withoutIndexes(sql, ['group_memberships', 'user_conversations'], async () => {
    await sql.query(
      `INSERT INTO group_memberships (app_id, guid, uid, joined_at)
       SELECT DISTINCT $1, m.receiver, p.uid, $2::timestamptz
         FROM messages m
         CROSS JOIN LATERAL (VALUES (m.sender), ('qu' || (substr(m.id, 3)::bigint * 7919) % $3)) AS p(uid)
        WHERE m.app_id = $1 AND m.receiver_type = 'group' AND m.id LIKE 'qm%'
          AND substr(m.receiver, 3)::int % 2 = 0`,
      [QUERY_APP, from, seeded.users],
    );
    // Read watermarks: each reader's latest read message per conversation.
    await sql.query(
      `CREATE TEMP TABLE bench_watermarks AS
       SELECT DISTINCT ON (reader, conversation_id) reader, conversation_id, sent_at, message_id, at
         FROM receipts WHERE app_id = $1 AND kind = 'read'
        ORDER BY reader, conversation_id, sent_at DESC, length(message_id) DESC, message_id DESC`,
      [QUERY_APP],
    );
    await sql.query(`CREATE INDEX ON bench_watermarks (reader, conversation_id)`);
    // One-to-one: each receiver's row, its oldest unread message by the definition.
    await sql.query(
      `INSERT INTO user_conversations (app_id, uid, conversation_id, receiver_type, membership,
                                       read_sent_at, read_message_id, last_read_at, oldest_unread_at)
       SELECT $1, m.receiver, m.conversation_id, 'user', 'known',
              w.sent_at, w.message_id, w.at,
              min(m.sent_at) FILTER (WHERE m.sender <> m.receiver AND m.deleted_at IS NULL
                AND (w.sent_at IS NULL
                     OR (m.sent_at, length(m.id), m.id) > (w.sent_at, length(w.message_id), w.message_id)))
         FROM messages m
         LEFT JOIN bench_watermarks w ON w.reader = m.receiver AND w.conversation_id = m.conversation_id
        WHERE m.app_id = $1 AND m.receiver_type = 'user'
        GROUP BY m.receiver, m.conversation_id, w.sent_at, w.message_id, w.at`,
      [QUERY_APP],
    );
    // Groups: senders and readers (members, known or inferred), their watermarks.
    await sql.query(
      `INSERT INTO user_conversations (app_id, uid, conversation_id, receiver_type, guid, membership,
                                       read_sent_at, read_message_id, last_read_at)
       SELECT $1, p.uid, p.conversation_id, 'group', p.guid,
              CASE WHEN substr(p.guid, 3)::int % 2 = 0 THEN 'known' ELSE 'inferred' END,
              w.sent_at, w.message_id, w.at
         FROM (SELECT DISTINCT m.conversation_id, m.receiver AS guid, p.uid
                 FROM messages m
                 CROSS JOIN LATERAL (VALUES (m.sender), ('qu' || (substr(m.id, 3)::bigint * 7919) % $2)) AS p(uid)
                WHERE m.app_id = $1 AND m.receiver_type = 'group') p
         LEFT JOIN bench_watermarks w ON w.reader = p.uid AND w.conversation_id = p.conversation_id`,
      [QUERY_APP, seeded.users],
    );
  });
  await sql.query(`ANALYZE messages, group_memberships, user_conversations`);
  // The groups' oldest unread message, by the derivation's own fragment.
  await sql.query(
    `UPDATE user_conversations s
        SET oldest_unread_at = (SELECT min(m.sent_at) FROM ${unreadMessages('s', '$1', '', 'ORDER BY m.sent_at LIMIT 1')})
      WHERE s.app_id = $1 AND s.receiver_type = 'group'`,
    [QUERY_APP],
  );
  await sql.query(`VACUUM (ANALYZE) messages, group_memberships, user_conversations`);
  const { rows } = await sql.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM messages WHERE app_id = $1) AS messages,
            (SELECT count(*) FROM group_memberships WHERE app_id = $1) AS memberships,
            (SELECT count(*) FROM user_conversations WHERE app_id = $1) AS conversations,
            (SELECT count(*) FROM user_conversations WHERE app_id = $1 AND oldest_unread_at IS NOT NULL) AS unread`,
    [QUERY_APP],
  );
  return {
    messages: Number(rows[0].messages),
    unreadExtra: extra,
    memberships: Number(rows[0].memberships),
    userConversations: Number(rows[0].conversations),
    withUnread: Number(rows[0].unread),
    seconds: 0,
  };
}
