import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { SimEvent, TrafficModel } from '../scripts/traffic-model';
import { DerivationRunner } from '../src/ingest/derivation-runner.service';
import { PrismaService } from '../src/db/prisma.service';
import { Prisma } from '../src/generated/prisma/client';
import { ROOT } from './setup/test-database';
import { resetDatabase, startApp, testDatabaseUrl } from './setup/test-app';

/**
 * The SQL each file of src/ runs, kept in src/queries/<file>.sql so that a statement can be read
 * whole, and reviewed when it changes. This spec runs a day of simulated traffic and every query
 * route, records each statement with the function that sent it, and fails when the record is not
 * current: `npm run sql:record` rewrites it.
 */
const RECORD_DIR = path.join(ROOT, 'src', 'queries');
const UPDATE = process.env.UPDATE_SQL_RECORD === '1';
const HOUR = 3_600_000;
const SRC = path.join(ROOT, 'src') + path.sep;

interface Recorded {
  file: string;
  caller: string;
  text: string;
}

/** The first frame in the service's own code: `src/x/y.ts` and its function. */
function callerOf(stack: string): { file: string; caller: string } | null {
  for (const line of stack.split('\n').slice(1)) {
    const match = /at (?:async )?(?:(.+?) \()?(\/[^()]+?\.ts):\d+:\d+\)?$/.exec(line.trim());
    if (!match?.[2].startsWith(SRC)) {
      continue;
    }
    match[2] = match[2].slice(SRC.length);
    const file = match[2];
    if (
      file.startsWith('generated/') ||
      /^db\/(prepared|prisma\.service|unnest|cursor-stream)\.ts$/.test(file)
    ) {
      continue;
    }
    const caller = (match[1] ?? '(anonymous)')
      .replace(/ \[as [^\]]+\]$/, '')
      .replace(/^(Proxy|Object)\./, '');
    return { file: `src/${file}`, caller };
  }
  return null;
}

/** Statement text without its indentation, so the record reads like the source. */
function normalise(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  const indents = lines
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return [lines[0].trim(), ...lines.slice(1).map((l) => l.slice(cut).trimEnd())].join('\n');
}

function render(file: string, statements: Recorded[]): string {
  const blocks = statements
    .map((s) => `-- ${s.caller}\n${s.text};\n`)
    .sort((a, b) => a.localeCompare(b));
  return (
    `-- The SQL ${file} runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).\n\n` +
    blocks.join('\n')
  );
}

function traffic(): SimEvent[] {
  const start = Date.UTC(2026, 10, 25, 6);
  const model = new TrafficModel({
    appId: 'sql',
    users: 8,
    start,
    liveFrom: start + 4 * HOUR,
    end: start + 4 * HOUR + 60_000,
    rate: 5,
    seed: 5,
  });
  const events: SimEvent[] = [];
  for (let e = model.next(); e !== undefined; e = model.next()) {
    events.push(e);
  }
  return events;
}

describe('the SQL record (src/queries/)', () => {
  it('is current', async () => {
    await resetDatabase();
    const recorded = new Map<string, Recorded>();
    let pending: { file: string; caller: string } | null = null;
    const original = Reflect.get(Client.prototype, 'query') as (...a: unknown[]) => unknown;
    // Every statement of the app goes through pg's Client, Prisma's adapter included.
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      const text = typeof config === 'string' ? config : config?.text;
      if (
        typeof text === 'string' &&
        !/^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|ANALYZE|FETCH)\b/i.test(text)
      ) {
        const at = callerOf(new Error().stack ?? '') ?? pending;
        if (at !== null) {
          const statement = { ...at, text: normalise(text) };
          recorded.set(`${at.file}\u0000${at.caller}\u0000${statement.text}`, statement);
        }
      }
      return original.apply(this, args);
    } as typeof Client.prototype.query;

    // pool.query checks a client out first, which loses the caller's stack: note it here.
    const poolQuery = Reflect.get(Pool.prototype, 'query') as (...a: unknown[]) => unknown;
    Pool.prototype.query = function (this: Pool, ...args: unknown[]) {
      pending = callerOf(new Error().stack ?? '') ?? pending;
      return poolQuery.apply(this, args);
    } as typeof Pool.prototype.query;
    // The primary as its own "replica": not a standby, so the heavy reads go to the primary as
    // they do without one, and the replica routing's statements are recorded too.
    const app = await startApp({
      DERIVE_ENABLED: 'false',
      READ_YOUR_WRITES_TIMEOUT_MS: '50',
      DATABASE_REPLICA_URL: testDatabaseUrl(),
    });
    // Prisma sends its statements after hops that lose the caller's stack: note the caller
    // when a service calls Prisma (requests here run one at a time).
    const service: PrismaService = app.get(PrismaService);
    const prisma = service as unknown as Record<string, unknown>;
    const remember = () => {
      pending = callerOf(new Error().stack ?? '') ?? pending;
    };
    const delegates = Object.values(Prisma.ModelName).map((m) => m[0].toLowerCase() + m.slice(1));
    for (const key of ['$queryRaw', '$queryRawUnsafe', '$executeRaw', '$executeRawUnsafe']) {
      const method = (prisma[key] as (...a: unknown[]) => unknown).bind(prisma);
      prisma[key] = (...a: unknown[]) => {
        remember();
        return method(...a);
      };
    }
    for (const key of delegates) {
      const delegate = prisma[key] as Record<string | symbol, unknown>;
      Object.defineProperty(prisma, key, {
        value: new Proxy(delegate, {
          get(target, property) {
            const value = target[property];
            if (typeof value !== 'function') {
              return value;
            }
            return (...a: unknown[]) => {
              remember();
              return (value as (...b: unknown[]) => unknown).apply(target, a);
            };
          },
        }),
      });
    }
    try {
      const inject = (url: string) => app.inject({ method: 'GET', url });
      for (const e of traffic()) {
        await app.inject({
          method: 'POST',
          url: '/webhooks/cometchat',
          headers: { 'content-type': e.contentType },
          payload: e.body,
        });
      }
      // A query while events wait: the read-your-writes wait runs to its limit.
      await inject('/users/sim-amara/presence?appId=sql');
      await app.get(DerivationRunner).drain();
      const window = 'from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z';
      for (const url of [
        '/users/sim-amara/presence?appId=sql',
        `/users/sim-amara/sessions?appId=sql&${window}`,
        `/users/sim-amara/sessions?appId=sql&platform=web&limit=2`,
        '/presence/online?appId=sql',
        '/presence/online',
        '/events?appId=sql&limit=5',
        `/events?appId=sql&trigger=message_sent&uid=sim-amara&${window}`,
        '/events/rejected?appId=sql',
        '/apps',
        '/apps?appId=sql',
        `/analytics/read-latency?appId=sql&${window}`,
        `/analytics/read-latency?appId=sql&${window}&interval=hour&receiverType=group`,
        `/analytics/delivery-latency?appId=sql&${window}&reader=sim-amara`,
        `/analytics/concurrency?appId=sql&${window}&interval=hour`,
        `/analytics/conversations?appId=sql&${window}`,
        `/analytics/active-users?appId=sql&${window}&platform=all`,
        `/analytics/active-users?interval=week`,
        `/analytics/sessions?appId=sql&${window}`,
        `/analytics/sessions?appId=sql&${window}&platform=web`,
        ...['messages', 'receipts', 'sessions', 'events'].map(
          (kind) => `/export/${kind}?appId=sql&${window}`,
        ),
        '/users/sim-amara/unread?appId=sql',
        '/users/sim-amara/unread?limit=1',
        '/analytics/unread?appId=sql&olderThan=1h&limit=2',
        '/analytics/unread?olderThan=0s',
      ]) {
        expect({ url, status: (await inject(url)).statusCode }).toEqual({ url, status: 200 });
      }
      const messageId = (
        await app.inject({ method: 'GET', url: '/events?appId=sql&trigger=message_sent&limit=1' })
      ).json<{ items: { body: { data: { message: { id: string } } } }[] }>().items[0].body.data
        .message.id;
      expect((await inject(`/messages/${messageId}?appId=sql`)).statusCode).toBe(200);
      expect((await inject(`/messages/${messageId}/receipts?appId=sql`)).statusCode).toBe(200);
      const conversationId = (
        await app.inject({ method: 'GET', url: `/messages/${messageId}?appId=sql` })
      ).json<{ conversationId: string }>().conversationId;
      for (const url of [
        `/conversations/${conversationId}/messages?appId=sql&limit=2`,
        `/conversations/${conversationId}/messages?${window}`,
      ]) {
        expect({ url, status: (await inject(url)).statusCode }).toEqual({ url, status: 200 });
      }
    } finally {
      Client.prototype.query = original as typeof Client.prototype.query;
      Pool.prototype.query = poolQuery as typeof Pool.prototype.query;
      await app.close();
    }

    const byFile = new Map<string, Recorded[]>();
    for (const statement of recorded.values()) {
      byFile.set(statement.file, [...(byFile.get(statement.file) ?? []), statement]);
    }
    const expected = new Map(
      [...byFile].map(([file, statements]) => [
        `${path.basename(file, '.ts')}.sql`,
        render(file, statements),
      ]),
    );
    if (UPDATE) {
      rmSync(RECORD_DIR, { recursive: true, force: true });
      mkdirSync(RECORD_DIR, { recursive: true });
      for (const [name, text] of expected) {
        writeFileSync(path.join(RECORD_DIR, name), text);
      }
    }
    const actual = new Map(
      existsSync(RECORD_DIR)
        ? readdirSync(RECORD_DIR).map((name) => [
            name,
            readFileSync(path.join(RECORD_DIR, name), 'utf8'),
          ])
        : [],
    );
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      expect({ name, text: actual.get(name) }).toEqual({ name, text });
    }
  }, 180_000);
});
