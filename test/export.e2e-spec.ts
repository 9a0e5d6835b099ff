import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { afterMessage, currentSession, legacyReceipt } from './factories';
import { resetDatabase, startApp, withDb } from './setup/test-app';
import { get, iso, postAll } from './setup/http';

const D = Date.UTC(2024, 0, 1);
const M = 60_000;
const at = (minutes: number) => D + minutes * M;
const s = (ms: number) => ms / 1000;

/** A uid that needs every kind of CSV quoting. */
const AWKWARD = 'o"neil, jr\nthe 2nd';

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF records) into rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  expect(field).toBe('');
  expect(row).toEqual([]);
  return rows;
}

const range = (from: number, to: number) => `from=${iso(from)}&to=${iso(to)}`;

describe('GET /export/…', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
    await resetDatabase();
    await postAll(app, [
      afterMessage({ id: 'm2', sender: 'bob', receiver: AWKWARD, sentAt: s(at(10)) }),
      afterMessage({ id: 'm1', sender: AWKWARD, receiver: 'bob', sentAt: s(at(10)) }),
      afterMessage({ id: 'm0', sender: 'bob', receiver: 'carol', sentAt: s(at(0)) }),
      afterMessage({ id: 'm9', sender: 'bob', receiver: 'carol', sentAt: s(at(60)) }),
      afterMessage({
        id: 'x1',
        sender: 'bob',
        receiver: 'carol',
        sentAt: s(at(5)),
        appId: 'app-two',
      }),
      legacyReceipt({
        messageId: 'm1',
        reader: 'bob',
        messageSender: AWKWARD,
        kind: 'read',
        at: s(at(12)),
      }),
      ...currentSession('bob', 'android', at(1), at(31)),
      ...currentSession('carol', 'web', at(2), null),
    ]);
  });
  afterAll(() => app.close());

  it('messages as CSV: header row, RFC 4180 quoting, time then id order, [from, to)', async () => {
    const res = await get(app, `/export/messages?appId=app-one&${range(at(0), at(60))}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="messages_app-one_20240101T000000Z_20240101T010000Z.csv"',
    );
    expect(res.body).toMatch(/\r\n$/);
    expect(res.body).toContain('"o""neil, jr\nthe 2nd"');
    const [header, ...rows] = parseCsv(res.body);
    expect(header).toEqual([
      'appId',
      'id',
      'conversationId',
      'sender',
      'receiver',
      'receiverType',
      'category',
      'type',
      'sentAt',
      'editedAt',
      'deletedAt',
    ]);
    // m9 is at `to`: out; x1 is another app's
    expect(rows.map((r) => [r[1], r[3], r[8], r[9]])).toEqual([
      ['m0', 'bob', iso(at(0)), ''],
      ['m1', AWKWARD, iso(at(10)), ''],
      ['m2', 'bob', iso(at(10)), ''],
    ]);
  });

  it('receipts as NDJSON: one typed object per line, explicit and implied', async () => {
    const res = await get(
      app,
      `/export/receipts?appId=app-one&${range(at(0), at(60))}&format=ndjson`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/receipts_app-one_.*\.ndjson"$/);
    const lines = res.body.split('\n');
    expect(lines.pop()).toBe('');
    const base = {
      appId: 'app-one',
      messageId: 'm1',
      reader: 'bob',
      at: iso(at(12)),
      latencyMs: 2 * M,
      sentAt: iso(at(10)),
      messageSender: AWKWARD,
      // the receipt's receiver: the legacy receiptReceiver (here the message's sender)
      receiver: AWKWARD,
      receiverType: 'user',
      conversationId: ['bob', AWKWARD].sort().join('_user_'),
    };
    // a read implies delivery (kind orders the two at the same time)
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { ...base, kind: 'delivered', implied: true },
      { ...base, kind: 'read', implied: false },
    ]);
  });

  it('sessions: open ones with null end and duration', async () => {
    const res = await get(
      app,
      `/export/sessions?appId=app-one&${range(at(0), at(60))}&format=ndjson`,
    );
    const rows = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      rows.map((r) => [
        r.uid,
        r.platform,
        r.connectedAt,
        r.disconnectedAt,
        r.durationMs,
        r.closedBy,
      ]),
    ).toEqual([
      ['bob', 'android', iso(at(1)), iso(at(31)), 30 * M, 'event'],
      ['carol', 'web', iso(at(2)), null, null, null],
    ]);
  });

  it('events: the raw log with each body as JSON', async () => {
    const csv = parseCsv(
      (await get(app, `/export/events?appId=app-one&${range(at(0), at(11))}`)).body,
    );
    expect(csv[0]).toEqual([
      'eventId',
      'appId',
      'trigger',
      'webhook',
      'uid',
      'eventAt',
      'receivedAt',
      'body',
    ]);
    expect(csv.slice(1).map((r) => [r[2], r[5]])).toEqual([
      ['after_message', iso(at(0))],
      ['user_connection_status_changed', iso(at(1))],
      ['user_connection_status_changed', iso(at(2))],
      ['after_message', iso(at(10))],
      ['after_message', iso(at(10))],
    ]);
    const bodies = csv.slice(1).map((r) => JSON.parse(r[7]) as { trigger: string });
    expect(bodies[0].trigger).toBe('after_message');
    // two events at the same time come in id order (m2 was posted first)
    expect(Number(csv[4][0])).toBeLessThan(Number(csv[5][0]));
  });

  it('an empty range is a header and nothing else', async () => {
    const res = await get(app, `/export/messages?appId=app-one&${range(at(0), at(0))}`);
    expect(res.statusCode).toBe(200);
    expect(parseCsv(res.body)).toHaveLength(1);
  });

  it.each([
    ['', 'appId'],
    ['appId=app-one&to=2024-01-02', 'from'],
    ['appId=app-one&from=2024-01-01', 'to'],
    ['appId=app-one&from=2024-01-02&to=2024-01-01', 'from'],
    ['appId=app-one&from=2024-01-01&to=2024-02-01T00:00:01Z', 'to'],
    ['appId=app-one&from=2024-01-01&to=2024-01-02&format=xlsx', 'format'],
    ['appId=app-one&from=2024-01-01&to=2024-01-02&limit=5', 'limit'],
  ])('%s: 400 naming %s', async (params, field) => {
    for (const kind of ['messages', 'receipts', 'sessions', 'events']) {
      const res = await get(app, `/export/${kind}?${params}`);
      expect({ kind, status: res.statusCode }).toEqual({ kind, status: 400 });
      expect(res.json()).toMatchObject({ field });
    }
  });

  it('31 days exactly is fine', async () => {
    const res = await get(app, `/export/messages?appId=app-one&from=2024-01-01&to=2024-02-01`);
    expect(res.statusCode).toBe(200);
  });
});

/** Streams over real HTTP, where a response is not collected whole as app.inject does. */
describe('GET /export/… streaming', () => {
  const ROWS = 200_000;
  const PAD = 'x'.repeat(900);
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    // DB_POOL_SIZE 2: one export at a time, so a leaked connection or slot shows at once.
    app = await startApp({ DB_POOL_SIZE: '2', READ_YOUR_WRITES_TIMEOUT_MS: '0' });
    await resetDatabase();
    // ~1 KB per row: the whole export (~220 MB) is far more than the heap bound below.
    await withDb((db) =>
      db.query(
        `INSERT INTO webhook_events (app_id, trigger, event_at, body_sha256, body)
         SELECT 'big', 'custom_event', $1::timestamptz + i * interval '1 second',
                sha256(i::text::bytea), jsonb_build_object('i', i, 'pad', $2::text)
           FROM generate_series(1, $3::int) AS i`,
        [iso(D), PAD, ROWS],
      ),
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(() => app.close());

  const url = `/export/events?appId=big&from=2024-01-01&to=2024-01-31&format=ndjson`;
  const request = () =>
    new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(base + url, resolve).on('error', reject),
    );
  // Live memory, garbage collected first: what the export keeps, not what it has dropped. Chunks
  // are Buffers, outside the JavaScript heap: `external` counts them.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    const { heapUsed, external } = process.memoryUsage();
    return heapUsed + external;
  };
  const MB = 1024 * 1024;

  it(`streams ${ROWS} rows with bounded memory, and waits for a slow reader`, async () => {
    const res = await request();
    expect(res.statusCode).toBe(200);
    const start = heap();
    let peak = start;
    let bytes = 0;
    let lines = 0;
    res.pause();
    // A reader that does not read: the server must stop fetching rather than buffer the rows.
    await new Promise((r) => setTimeout(r, 3000));
    const whilePaused = heap() - start;
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        if (Math.floor((bytes + chunk.length) / (16 * MB)) > Math.floor(bytes / (16 * MB))) {
          peak = Math.max(peak, heap());
        }
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
          lines++;
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
      res.resume();
    });
    expect(lines).toBe(ROWS);
    expect(bytes).toBeGreaterThan(200 * MB);
    expect(whilePaused).toBeLessThan(16 * MB);
    // Never the whole result: live memory stays well under half of what was streamed. (Node 20
    // kept it under 32 MB here; Node 24 collects Buffers later and reached 54 MB on one run.)
    expect(peak - start).toBeLessThan(bytes / 2);
  }, 120_000);

  it('a client that hangs up mid-stream gives the connection back', async () => {
    const res = await request();
    await new Promise<void>((resolve) => res.once('data', () => resolve()));
    res.destroy();
    const pool = app.get(Pool);
    const deadline = Date.now() + 10_000;
    while (pool.totalCount !== pool.idleCount && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(pool.totalCount - pool.idleCount).toBe(0);
    const open = await withDb(
      async (db) =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND query LIKE 'FETCH%' AND state <> 'idle'`,
          )
        ).rows[0].n,
    );
    expect(open).toBe(0);
    // The export's slot is free again: another one starts (not 503).
    const again = await request();
    expect(again.statusCode).toBe(200);
    again.destroy();
  }, 60_000);
});
