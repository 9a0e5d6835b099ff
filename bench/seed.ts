import { Client } from 'pg';
import { rebuildLatencyHistogram } from '../src/receipts/latency-tally';
import { deriveActivity } from '../src/analytics/activity.derivation';
import { Profile } from './profile';

export const QUERY_APP = 'bench-query';
export const uidOf = (i: number) => `qu${i}`;

export interface Seeded {
  users: number;
  receipts: number;
  connectionEvents: number;
  sessions: number;
  /** One per receipted message, sent by its receipts' messageSender. */
  messages: number;
  /** Seconds the activity days (active users) took to derive from the seeded sessions and messages. */
  activitySeconds: number;
  /** The receipts span [from, to). */
  from: Date;
  to: Date;
  seconds: number;
}

const SEEDED_TABLES = ['presence', 'connection_events', 'sessions', 'receipts', 'messages'];

/**
 * Seeds the query app with SQL generate_series, not HTTP: users with a presence row and two
 * sessions each (30% still online), the messages, and receipts spread evenly over the profile's
 * days, half deliveries (tens of ms to 30 s) and half reads (seconds to 4 h), 10% in groups, some
 * implied. Active users' days are then derived by the service's own code from those rows.
 * Indexes are dropped for the load and rebuilt from their own definitions, the usual way to bulk
 * load; then VACUUM ANALYZE, as autovacuum would have done on a live database.
 */
export async function seed(
  sql: Client,
  url: string,
  profile: Profile,
  log: (l: string) => void,
): Promise<Seeded> {
  const started = Date.now();
  const { rows } = await sql.query<{ now: Date }>(`SELECT date_trunc('second', now()) AS now`);
  const to = rows[0].now;
  const from = new Date(to.getTime() - profile.receiptDays * 86_400_000);
  const { users, receipts } = profile;
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;

  // Two sessions load in parallel, one per core: the users and the later half of the receipts,
  // and the earlier half of the receipts.
  const second = new Client({ connectionString: url });
  await second.connect();
  try {
    await withoutIndexes(sql, SEEDED_TABLES, async () => {
      const half = Math.floor(receipts / 2);
      await Promise.all([
        (async () => {
          await seedUsers(sql, users, to);
          log(`seeded ${users} users at ${elapsed()}`);
          await seedMessages(sql, { users, receipts, from, days: profile.receiptDays });
          log(`seeded ${receipts / 2} messages at ${elapsed()}`);
          await seedReceipts(
            sql,
            { users, receipts, from, days: profile.receiptDays },
            half,
            receipts,
          );
        })(),
        seedReceipts(second, { users, receipts, from, days: profile.receiptDays }, 0, half),
      ]);
      log(`seeded ${receipts} receipts at ${elapsed()}`);
    });
  } finally {
    await second.end();
  }
  log(`rebuilt indexes at ${elapsed()}`);
  await rebuildLatencyHistogram(sql, QUERY_APP);
  log(`built the latency histogram at ${elapsed()}`);
  await sql.query('ANALYZE sessions, messages');
  const activityStarted = Date.now();
  await sql.query('BEGIN');
  await deriveActivity(sql, QUERY_APP, {
    users: 'all',
    messageIds: 'all',
    latestEventAt: to.getTime(),
  });
  await sql.query('COMMIT');
  const activitySeconds = Math.round((Date.now() - activityStarted) / 1000);
  log(`derived the active-user days in ${activitySeconds} s`);
  // The whole database, so the pre-aggregates get statistics too.
  await sql.query('VACUUM (ANALYZE)');

  const counts = await sql.query<{ ce: string; s: string; m: string }>(
    `SELECT (SELECT count(*) FROM connection_events WHERE app_id = $1) AS ce,
            (SELECT count(*) FROM sessions WHERE app_id = $1) AS s,
            (SELECT count(*) FROM messages WHERE app_id = $1) AS m`,
    [QUERY_APP],
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`seeding done in ${seconds} s`);
  return {
    users,
    receipts,
    connectionEvents: Number(counts.rows[0].ce),
    sessions: Number(counts.rows[0].s),
    messages: Number(counts.rows[0].m),
    activitySeconds,
    from,
    to,
    seconds,
  };
}

/**
 * Per user i, with T its last status change: session a (connected T - 3 h, closed T - 2 h) and
 * session b (connected at T; closed at T + 1 h for the 70% that are offline).
 */
async function seedUsers(sql: Client, users: number, to: Date): Promise<void> {
  const perUser = `SELECT i, $2::timestamptz - make_interval(secs => 3600 + i % 86400) AS t,
                          i % 10 < 3 AS online FROM generate_series(0, $1::int - 1) AS i`;
  await sql.query(
    `INSERT INTO presence (app_id, uid, status, status_at, last_seen_at, last_active_at)
     SELECT $3, 'qu' || i, CASE WHEN online THEN 'online' ELSE 'offline' END,
            CASE WHEN online THEN t ELSE t + interval '1 hour' END,
            CASE WHEN online THEN $2::timestamptz ELSE t + interval '1 hour' END,
            t + interval '50 minutes'
       FROM (${perUser}) u`,
    [users, to, QUERY_APP],
  );
  await sql.query(
    `INSERT INTO connection_events (app_id, uid, action, at, status, session_key, device_id,
                                    platform, connected_at, event_id)
     SELECT $3, 'qu' || i, e.action, e.at, e.status, e.session || i, 'dev-' || e.session || i,
            e.platform, e.connected_at, i * 4 + e.ord
       FROM (${perUser}) u
      CROSS JOIN LATERAL (VALUES
        (0, 'connected', t - interval '3 hours', 'online', 'qa', 'android', t - interval '3 hours'),
        (1, 'disconnected', t - interval '2 hours', 'offline', 'qa', 'android', t - interval '3 hours'),
        (2, 'connected', t, 'online', 'qb', 'web', t),
        (3, 'disconnected', t + interval '1 hour', 'offline', 'qb', 'web', t)
      ) AS e(ord, action, at, status, session, platform, connected_at)
      WHERE e.ord < 3 OR NOT online`,
    [users, to, QUERY_APP],
  );
  await sql.query(
    `INSERT INTO sessions (app_id, uid, session_key, device_id, platform, connected_at,
                           disconnected_at, closed_by)
     SELECT $3, 'qu' || i, s.session || i, 'dev-' || s.session || i, s.platform, s.connected_at,
            s.disconnected_at, CASE WHEN s.disconnected_at IS NULL THEN NULL ELSE 'event' END
       FROM (${perUser}) u
      CROSS JOIN LATERAL (VALUES
        ('qa', 'android', t - interval '3 hours', t - interval '2 hours'),
        ('qb', 'web', t, CASE WHEN online THEN NULL ELSE t + interval '1 hour' END)
      ) AS s(session, platform, connected_at, disconnected_at)`,
    [users, to, QUERY_APP],
  );
}

/** The messages the receipts are about: message m, its sender, receiver and time as they have them. */
async function seedMessages(
  sql: Client,
  all: { users: number; receipts: number; from: Date; days: number },
): Promise<void> {
  await sql.query(
    `INSERT INTO messages (app_id, id, conversation_id, sender, receiver, receiver_type, category,
                           type, sent_at, event_id)
     SELECT $4, 'qm' || m,
            CASE WHEN grp THEN 'group_qg' || m % 5000
                 ELSE 'qu' || least(sender, reader) || '_user_qu' || greatest(sender, reader) END,
            'qu' || sender, CASE WHEN grp THEN 'qg' || m % 5000 ELSE 'qu' || reader END,
            CASE WHEN grp THEN 'group' ELSE 'user' END, 'message', 'text', sent_at, m
       FROM (SELECT m, (m * 7919) % $1 AS reader, (m * 104729 + 1) % $1 AS sender,
                    $2::timestamptz + m * ($3::float8 / ($5::bigint / 2)) * interval '1 second' AS sent_at,
                    m % 10 = 0 AS grp
               FROM generate_series(0::bigint, $5::bigint / 2 - 1) AS m) x`,
    [all.users, all.from, all.days * 86_400, QUERY_APP, all.receipts],
  );
}

/**
 * Receipts [first, last) of the whole set: two per message (delivered, read), messages evenly
 * spaced over the days, in time order as they would arrive. The latency histogram is rebuilt
 * from them once all are in (rebuildLatencyHistogram), as derivation would have kept it.
 */
async function seedReceipts(
  sql: Client,
  all: { users: number; receipts: number; from: Date; days: number },
  first: number,
  last: number,
): Promise<void> {
  await sql.query('SELECT setseed($1)', [first / all.receipts]);
  await sql.query(
    `INSERT INTO receipts (app_id, message_id, reader, kind, at, implied, receiver_type, receiver,
                           message_sender, conversation_id, sent_at, latency_ms, event_id,
                           tallied_at, tallied_receiver_type, tallied_implied, tallied_latency_ms)
     SELECT app_id, message_id, reader, kind, at, implied, receiver_type, receiver, message_sender,
            conversation_id, sent_at, latency_ms, event_id, at, receiver_type, implied, latency_ms
       FROM (
     SELECT $4 AS app_id, 'qm' || m AS message_id, 'qu' || reader AS reader, kind,
            sent_at + latency_ms * interval '1 millisecond' AS at,
            implied, CASE WHEN grp THEN 'group' ELSE 'user' END AS receiver_type,
            CASE WHEN grp THEN 'qg' || m % 5000 ELSE 'qu' || reader END AS receiver, 'qu' || sender AS message_sender,
            CASE WHEN grp THEN 'group_qg' || m % 5000
                 ELSE 'qu' || least(sender, reader) || '_user_qu' || greatest(sender, reader) END AS conversation_id,
            sent_at, latency_ms, n AS event_id
       FROM (SELECT n, n / 2 AS m,
                    CASE WHEN n % 2 = 0 THEN 'delivered' ELSE 'read' END AS kind,
                    (n / 2 * 7919) % $1 AS reader, (n / 2 * 104729 + 1) % $1 AS sender,
                    $2::timestamptz + (n / 2) * ($3::float8 / ($5::bigint / 2)) * interval '1 second' AS sent_at,
                    CASE WHEN n % 2 = 0 THEN (50 + 30000 * random() ^ 4)::bigint
                         ELSE (1000 + 14400000 * random() ^ 3)::bigint END AS latency_ms,
                    n / 2 % 10 = 0 AS grp,
                    n % 2 = 1 AND n / 2 % 7 = 3 AS implied
               FROM generate_series($6::bigint, $7::bigint - 1) AS n) r) x`,
    [all.users, all.from, all.days * 86_400, QUERY_APP, all.receipts, first, last],
  );
}

/** Drops the tables' indexes and unique/primary constraints, runs fill, recreates them all. */
export async function withoutIndexes(sql: Client, tables: string[], fill: () => Promise<void>) {
  const { rows: constraints } = await sql.query<{ tbl: string; name: string; def: string }>(
    `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u')`,
    [tables],
  );
  const { rows: indexes } = await sql.query<{ name: string; def: string }>(
    `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def
       FROM pg_index i WHERE indrelid = ANY($1::regclass[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [tables],
  );
  for (const c of constraints) {
    await sql.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT "${c.name}"`);
  }
  for (const i of indexes) {
    await sql.query(`DROP INDEX ${i.name}`);
  }
  try {
    await fill();
  } finally {
    for (const c of constraints) {
      await sql.query(`ALTER TABLE ${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`);
    }
    for (const i of indexes) {
      // A partitioned table's index prints as ON ONLY (the parent alone): rebuild it everywhere.
      await sql.query(i.def.replace(' ON ONLY ', ' ON '));
    }
  }
}
