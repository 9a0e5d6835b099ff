import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client, Pool } from 'pg';
import { DerivationRunner } from '../../src/ingest/derivation-runner.service';
import { MetricsService } from '../../src/metrics/metrics.service';
import {
  afterMessage,
  currentConnection,
  currentReceipt,
  groupAggregate,
  groupCreated,
  groupMemberEvent,
  legacyConnection,
} from '../factories';
import { get, post, postAll } from '../setup/http';
import { resetDatabase, rows, startApp, withDb } from '../setup/test-app';

/**
 * Run by `npm run test:scale` on a Citus coordinator with two workers (test/scale/run.ts), on a
 * database distributed by `npm run db:distribute`'s code: one app's rows of every table live on
 * one shard, batches that mix apps are stored and derived per app, and the presence and receipts
 * lookups are planned on that one shard.
 */
const T0 = 1_800_000_000;

/** One app's traffic: a message, its delivery and read, a device connecting (both formats). */
function traffic(appId: string, n: number) {
  return [
    afterMessage({ appId, id: `${appId}-m${n}`, sender: 'alice', receiver: 'bob', sentAt: T0 + n }),
    currentReceipt({
      appId,
      messageId: `${appId}-m${n}`,
      reader: 'bob',
      messageSender: 'alice',
      kind: 'delivered',
      at: T0 + n + 1,
    }),
    currentReceipt({
      appId,
      messageId: `${appId}-m${n}`,
      reader: 'bob',
      messageSender: 'alice',
      kind: 'read',
      at: T0 + n + 2,
    }),
    legacyConnection({
      appId,
      uid: 'bob',
      type: 'connected',
      at: (T0 + n) * 1000,
      status: 'online',
      connection: { session: `s${n}`, connectedAt: (T0 + n) * 1000 },
    }),
    currentConnection({
      appId,
      uid: 'alice',
      action: 'connected',
      at: (T0 + n) * 1000,
      status: 'online',
      connectedAt: (T0 + n) * 1000,
    }),
  ];
}

interface Shard {
  shardid: string;
  /** the shard's hash range, the same for co-located shards of every table */
  range: string;
  node: string;
}

/** The distributed tables (partitioned parents, not their partitions), from Citus's catalogue. */
async function distributedTables(db: Client): Promise<string[]> {
  const { rows: tables } = await db.query<{ table: string }>(
    `SELECT p.logicalrelid::regclass::text AS table
       FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
      WHERE p.partmethod = 'h' AND NOT c.relispartition
      ORDER BY 1`,
  );
  return tables.map((t) => t.table);
}

async function shardOf(db: Client, table: string, appId: string): Promise<Shard> {
  const { rows: found } = await db.query<Shard>(
    `SELECT s.shardid::text, s.shardminvalue || '..' || s.shardmaxvalue AS range,
            n.nodename || ':' || n.nodeport AS node
       FROM pg_dist_shard s
       JOIN pg_dist_placement p ON p.shardid = s.shardid
       JOIN pg_dist_node n ON n.groupid = p.groupid
      WHERE s.shardid = get_shard_id_for_distribution_column($1, $2::text)`,
    [table, appId],
  );
  expect(found).toHaveLength(1);
  return found[0];
}

/** How many of the app's rows each shard of the table holds, read on the workers themselves. */
async function rowsPerShard(
  db: Client,
  table: string,
  appId: string,
): Promise<Map<string, number>> {
  const literal = `'${appId.replace(/'/g, "''")}'`;
  const { rows: counts } = await db.query<{ shardid: string; success: boolean; result: string }>(
    `SELECT shardid::text, success, result
       FROM run_command_on_shards($1, $2)`,
    [table, `SELECT count(*) FROM %s WHERE app_id = ${literal}`],
  );
  expect(counts.filter((c) => !c.success)).toEqual([]);
  return new Map(counts.map((c) => [c.shardid, Number(c.result)]));
}

/** Two app ids whose shards are on different workers. */
async function appsOnTwoWorkers(db: Client): Promise<[string, string]> {
  const byNode = new Map<string, string>();
  for (let i = 0; byNode.size < 2; i++) {
    const appId = `tenant-${i}`;
    byNode.set((await shardOf(db, 'webhook_events', appId)).node, appId);
  }
  const [a, b] = [...byNode.values()];
  return [a, b];
}

describe('Citus: one app, one shard', () => {
  let app: NestFastifyApplication;
  let db: Client;
  const derive = () => app.get(DerivationRunner).drain();

  beforeAll(async () => {
    await resetDatabase();
    // No derivation loop: statements seen during a request are the request's own.
    app = await startApp({ DERIVE_ENABLED: 'false' });
    db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
  });

  it('distributes every app-keyed table by app_id, co-located, and keeps the rest local', async () => {
    const tables = await distributedTables(db);
    expect(tables).toEqual(
      expect.arrayContaining([
        'webhook_events',
        'derivation_queue',
        'derivation_failures',
        'messages',
        'receipts',
        'group_receipts',
        'connection_events',
        'sessions',
        'presence',
        'latency_histogram',
        'activity_days',
        'activity_counts',
        'activity_horizon',
        'group_member_events',
        'group_memberships',
        'user_conversations',
      ]),
    );
    const { rows: groups } = await db.query<{ groups: number }>(
      `SELECT count(DISTINCT colocationid)::int AS groups FROM pg_dist_partition
        WHERE logicalrelid::regclass::text = ANY ($1::text[])`,
      [tables],
    );
    expect(groups[0].groups).toBe(1);
    const { rows: local } = await db.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c
        WHERE c.relname IN ('rejected_events', 'retention_horizon', '_prisma_migrations')
          AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
        ORDER BY 1`,
    );
    expect(local.map((r) => r.table)).toEqual([
      '_prisma_migrations',
      'rejected_events',
      'retention_horizon',
    ]);
  });

  it("keeps one app's rows of every table on one shard, the same shard range and node for all", async () => {
    const [first, second] = await appsOnTwoWorkers(db);
    await postAll(app, [...traffic(first, 1), ...traffic(second, 1), ...traffic(first, 2)]);
    await derive();
    for (const appId of [first, second]) {
      const anchor = await shardOf(db, 'webhook_events', appId);
      for (const table of await distributedTables(db)) {
        const shard = await shardOf(db, table, appId);
        expect({ table, range: shard.range, node: shard.node }).toEqual({
          table,
          range: anchor.range,
          node: anchor.node,
        });
        const { rows: total } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${table} WHERE app_id = $1`,
          [appId],
        );
        const perShard = await rowsPerShard(db, table, appId);
        const holding = [...perShard].filter(([, n]) => n > 0);
        const expected = Number(total[0].n) > 0 ? [[shard.shardid, Number(total[0].n)]] : [];
        expect({ table, holding }).toEqual({ table, holding: expected });
      }
    }
    // Rows that must exist, so that the loop above checked something in each table.
    const [counts] = await rows<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM messages WHERE app_id = $1) AS messages,
              (SELECT count(*)::int FROM receipts WHERE app_id = $1) AS receipts,
              (SELECT count(*)::int FROM sessions WHERE app_id = $1) AS sessions,
              (SELECT count(*)::int FROM presence WHERE app_id = $1) AS presence,
              (SELECT count(*)::int FROM latency_histogram WHERE app_id = $1) AS histogram`,
      [first],
    );
    expect(counts).toEqual({ messages: 2, receipts: 4, sessions: 4, presence: 2, histogram: 4 });
  });

  it('stores a batch that mixes apps in one commit, and derives each app apart', async () => {
    await resetDatabase();
    const batchy = await startApp({ INGEST_CONCURRENCY: '1', INGEST_MAX_BATCH: '50' });
    try {
      const apps = ['mix-a', 'mix-b', 'mix-c'];
      const bodies = Array.from({ length: 8 }, (_, n) => apps.flatMap((a) => traffic(a, n))).flat();
      const batches = batchy.get(MetricsService).batchSize;
      const before = (await batches.get()).values.find((v) => v.metricName?.endsWith('_count'));
      const answers = await Promise.all(bodies.map((body) => post(batchy, body)));
      expect(answers.map((a) => a.statusCode)).toEqual(bodies.map(() => 200));
      const after = (await batches.get()).values.find((v) => v.metricName?.endsWith('_count'));
      // Fewer commits than requests: requests of the three apps, interleaved, shared batches.
      expect(after!.value - (before?.value ?? 0)).toBeLessThan(bodies.length / 2);
      const perApp = await rows<{ app_id: string; messages: number; reads: number }>(
        `SELECT app_id, count(*) FILTER (WHERE kind = 'read')::int AS reads,
                count(DISTINCT message_id)::int AS messages
           FROM receipts GROUP BY app_id ORDER BY app_id`,
      );
      expect(perApp).toEqual(apps.map((a) => ({ app_id: a, messages: 8, reads: 8 })));
      for (const a of apps) {
        const presence = await get(batchy, `/users/bob/presence?appId=${a}`);
        expect(presence.json()).toMatchObject({ appId: a, uid: 'bob', status: 'online' });
      }
    } finally {
      await batchy.close();
    }
  });

  describe('statement plans', () => {
    /** The statements some work sends (queries and writes), with their parameters. */
    async function statementsOf(work: () => Promise<unknown>) {
      const sent: { text: string; values: unknown[] }[] = [];
      const original = Reflect.get(Client.prototype, 'query') as (...a: unknown[]) => unknown;
      Client.prototype.query = function (this: Client, ...args: unknown[]) {
        const config = args[0] as string | { text?: string; values?: unknown[] };
        const text = typeof config === 'string' ? config : config?.text;
        const values =
          typeof config === 'string' ? (Array.isArray(args[1]) ? args[1] : []) : config?.values;
        if (typeof text === 'string' && /^\s*(WITH|SELECT|INSERT|UPDATE|DELETE)\b/i.test(text)) {
          sent.push({ text, values: values ?? [] });
        }
        return original.apply(this, args);
      } as typeof Client.prototype.query;
      try {
        await work();
      } finally {
        Client.prototype.query = original as typeof Client.prototype.query;
      }
      return sent;
    }

    /**
     * Each statement's distributed plan (EXPLAIN, not run): how many tasks (shards) each Citus
     * scan or subplan of it has. A statement on local tables or none has no task at all.
     */
    async function taskCounts(work: () => Promise<unknown>) {
      const plans: { text: string; tasks: number[] }[] = [];
      for (const { text, values } of await statementsOf(work)) {
        let lines: string;
        try {
          const { rows: plan } = await withDb((c) =>
            c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values),
          );
          lines = plan.map((p) => p['QUERY PLAN']).join('\n');
        } catch (error) {
          lines = `Task Count: -1 (${(error as Error).message})`;
        }
        const tasks = [...lines.matchAll(/Task Count: (-?\d+)/g)].map((m) => Number(m[1]));
        plans.push({ text: text.replace(/\s+/g, ' ').trim().slice(0, 160), tasks });
      }
      return plans;
    }

    const request = (url: string) => async () => expect((await get(app, url)).statusCode).toBe(200);

    let appId: string;
    beforeAll(async () => {
      await resetDatabase();
      [appId] = await appsOnTwoWorkers(db);
      await postAll(app, [...traffic(appId, 1), ...traffic('other-app', 1)]);
      await derive();
    });

    it.each([
      ['presence', (a: string) => `/users/bob/presence?appId=${a}`],
      ['receipts', (a: string) => `/messages/${a}-m1/receipts?appId=${a}`],
      ['sessions', (a: string) => `/users/bob/sessions?appId=${a}`],
      ['unread', (a: string) => `/users/bob/unread?appId=${a}`],
      ['re-engagement', (a: string) => `/analytics/unread?appId=${a}&olderThan=0s`],
    ])('runs the %s lookup on one shard (Task Count: 1)', async (_, url) => {
      const plans = await taskCounts(request(url(appId)));
      // Read-your-writes and the lookup itself: each on the distributed tables, each on one shard.
      expect(plans.filter((p) => p.tasks.length > 0).length).toBeGreaterThanOrEqual(2);
      expect(plans.filter((p) => p.tasks.some((n) => n !== 1))).toEqual([]);
    });

    it("derives a batch with statements that each touch the app's one shard", async () => {
      // Messages, explicit and implied receipts (one arriving before its message), a group
      // aggregate, connections in both formats with a legacy connections[] list, group membership
      // and a group message (unread state).
      await postAll(app, [
        groupCreated({ appId, group: 'g', owner: 'alice', at: T0 }),
        groupMemberEvent('group_member_joined', {
          appId,
          group: 'g',
          members: ['bob'],
          at: T0 + 1,
        }),
        groupMemberEvent('group_member_left', {
          appId,
          group: 'g',
          members: ['carol'],
          at: T0 + 2,
        }),
        afterMessage({
          appId,
          id: `${appId}-g1`,
          sender: 'alice',
          receiverType: 'group',
          receiver: 'g',
          sentAt: T0 + 3,
        }),
        currentReceipt({
          appId,
          messageId: `${appId}-m9`,
          reader: 'bob',
          messageSender: 'alice',
          kind: 'read',
          at: T0 + 20,
        }),
        ...traffic(appId, 5),
        afterMessage({
          appId,
          id: `${appId}-m9`,
          sender: 'alice',
          receiver: 'bob',
          sentAt: T0 + 9,
        }),
        groupAggregate({
          appId,
          messageId: `${appId}-m5`,
          group: 'g',
          kind: 'readByAll',
          at: T0 + 30,
        }),
        legacyConnection({
          appId,
          uid: 'bob',
          type: 'connected',
          at: (T0 + 40) * 1000,
          status: 'online',
          connection: { session: 's40', connectedAt: (T0 + 40) * 1000 },
          open: [{ session: 's40', connectedAt: (T0 + 40) * 1000 }],
        }),
      ]);
      // Not EXPLAIN (Citus cannot explain every data-modifying CTE): the deriving instance's
      // connections refuse any statement that would run on more than one shard.
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.searchParams.set('options', '-c citus.multi_task_query_log_level=error');
      const deriver = await startApp({ DERIVE_ENABLED: 'false' }, url.toString());
      try {
        const setting = await deriver
          .get(Pool)
          .query<{ level: string }>('SELECT current_setting($1) AS level', [
            'citus.multi_task_query_log_level',
          ]);
        expect(setting.rows[0].level).toBe('error');
        const statements = await statementsOf(() => deriver.get(DerivationRunner).drain(appId));
        expect(statements.length).toBeGreaterThan(10);
      } finally {
        await deriver.close();
      }
      const [state] = await rows<Record<string, number>>(
        `SELECT (SELECT count(*)::int FROM receipts WHERE app_id = $1 AND implied) AS implied,
                (SELECT count(*)::int FROM group_receipts WHERE app_id = $1) AS groups,
                (SELECT count(*)::int FROM derivation_failures WHERE app_id = $1) AS failed,
                (SELECT count(*)::int FROM group_memberships WHERE app_id = $1) AS memberships,
                (SELECT count(*)::int FROM user_conversations
                  WHERE app_id = $1 AND uid = 'bob' AND conversation_id = 'group_g'
                    AND oldest_unread_at IS NOT NULL) AS unread`,
        [appId],
      );
      expect(state).toEqual({
        implied: expect.any(Number),
        groups: 1,
        failed: 0,
        memberships: 3,
        unread: 1,
      });
      expect(state.implied).toBeGreaterThan(0);
    });

    it('refuses a statement over every shard on such a connection (the check above can fail)', async () => {
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.searchParams.set('options', '-c citus.multi_task_query_log_level=error');
      const strict = new Client({ connectionString: url.toString() });
      await strict.connect();
      try {
        await expect(strict.query('SELECT count(*) FROM receipts')).rejects.toThrow(/multi-task/);
        await strict.query('SELECT count(*) FROM receipts WHERE app_id = $1', [appId]);
      } finally {
        await strict.end();
      }
    });
  });
});
