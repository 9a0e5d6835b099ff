// npm run replay -- <file.ndjson|file.json|dir>... [--url http://localhost:3000] [--direct]
// npm run replay -- --rejected [--since 2026-11-01T00:00:00Z] [--app APP_ID] [--direct]
//
// Backfills historical webhooks, or replays the rejected-events table after a fix. Every body goes
// through the service's own ingest path, so re-running changes nothing: what is already stored
// answers "duplicate".
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import {
  assertReachable,
  directSink,
  eachConcurrently,
  ensurePrismaClient,
  httpSink,
  progressBar,
  redact,
  Tally,
  WebhookSink,
} from './webhook-sink';
import { parseQueryTime } from '../src/common/query-params';

const CONTENT_TYPE = 'application/json';

export interface ReplayOptions {
  sink: WebhookSink;
  concurrency?: number;
  progress?: boolean;
}

export interface ReplaySummary {
  files: number;
  tally: Tally;
  elapsedMs: number;
}

/**
 * Each `.ndjson` / `.jsonl` line is one webhook body, sent byte for byte; a `.json` file is one
 * body. A line that is an item of `GET /events` (it has `eventId` and `body`) sends its body, so
 * one store's event log can backfill another. A directory contributes its files of those kinds,
 * by name.
 */
export async function replayFiles(
  sources: string[],
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const started = Date.now();
  const files = sources.flatMap(listFiles);
  const tally = new Tally();
  let total = 0;
  for (const file of files) {
    total += await countBodies(file);
  }
  const bar = options.progress ? progressBar('replay', total, tally) : undefined;
  try {
    await eachConcurrently(bodiesOf(files), options.concurrency ?? 8, async (body) => {
      tally.add(await options.sink.send(body, CONTENT_TYPE));
      bar?.tick();
    });
  } finally {
    bar?.stop();
  }
  return { files: files.length, tally, elapsedMs: Date.now() - started };
}

const EXTENSIONS = /\.(ndjson|jsonl|json)$/i;

function listFiles(source: string): string[] {
  const stat = statSync(source);
  if (!stat.isDirectory()) {
    return [source];
  }
  return readdirSync(source)
    .filter((name) => EXTENSIONS.test(name) && statSync(path.join(source, name)).isFile())
    .sort()
    .map((name) => path.join(source, name));
}

const isWholeFile = (file: string) => /\.json$/i.test(file);

async function countBodies(file: string): Promise<number> {
  if (isWholeFile(file)) {
    return 1;
  }
  let n = 0;
  for await (const line of lines(file)) {
    if (line.trim() !== '') {
      n++;
    }
  }
  return n;
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

async function* bodiesOf(files: string[]): AsyncGenerator<Buffer> {
  for (const file of files) {
    if (isWholeFile(file)) {
      yield readFileSync(file);
      continue;
    }
    for await (const line of lines(file)) {
      if (line.trim() === '') {
        continue;
      }
      yield Buffer.from(unwrapLoggedEvent(line), 'utf8');
    }
  }
}

/** An item of `GET /events` stands for the webhook it stored; anything else is sent as it is. */
function unwrapLoggedEvent(line: string): string {
  if (!line.includes('"eventId"')) {
    return line;
  }
  try {
    const item = JSON.parse(line) as Record<string, unknown>;
    const body = item.body;
    if (typeof item.eventId === 'string' && typeof body === 'object' && body !== null) {
      return JSON.stringify(body);
    }
  } catch {
    // not JSON: the service will say so, and keep it as rejected
  }
  return line;
}

export interface RejectedReplayOptions extends ReplayOptions {
  /** The database holding rejected_events (the service's). */
  databaseUrl: string;
  /** Only bodies received at or after this time. */
  since?: Date;
  appId?: string;
}

export interface RejectedReplaySummary {
  /** Rows that were waiting to be replayed. */
  candidates: number;
  /** Stored (or found already stored) now, and marked replayed_at. */
  replayed: number;
  /** Rejected again; the row stays as it was, to be replayed after the next fix. */
  stillRejected: number;
  failed: number;
  tally: Tally;
  elapsedMs: number;
}

interface RejectedRow {
  id: string;
  content_type: string | null;
  body: Buffer;
}

/**
 * Re-sends every rejected body not yet replayed (oldest first). Accepted now: the row gets
 * `replayed_at`. Rejected again: the copy this attempt added is removed (the original row is
 * kept, byte for byte), so replaying twice adds nothing. Rows rejected while this runs wait for
 * the next run.
 */
export async function replayRejected(
  options: RejectedReplayOptions,
): Promise<RejectedReplaySummary> {
  const started = Date.now();
  const pool = new Pool({ connectionString: options.databaseUrl, max: 2 });
  const tally = new Tally();
  const summary = { candidates: 0, replayed: 0, stillRejected: 0, failed: 0 };
  try {
    const filter = (first: number) => {
      const params: unknown[] = [];
      const where = ['replayed_at IS NULL'];
      if (options.since) {
        where.push(`received_at >= $${params.push(options.since) + first}`);
      }
      if (options.appId) {
        where.push(`app_id = $${params.push(options.appId) + first}`);
      }
      return { where: where.join(' AND '), params };
    };
    const head = filter(0);
    const { rows: countRows } = await pool.query<{ n: string; max_id: string | null }>(
      `SELECT count(*) AS n, max(id)::text AS max_id FROM rejected_events WHERE ${head.where}`,
      head.params,
    );
    summary.candidates = Number(countRows[0].n);
    const lastId = countRows[0].max_id;
    const bar = options.progress
      ? progressBar('replay rejected', summary.candidates, tally)
      : undefined;

    const page = filter(2);
    let after = '0';
    try {
      while (lastId !== null) {
        const { rows } = await pool.query<RejectedRow>(
          `SELECT r.id::text AS id, r.content_type, r.body FROM rejected_events r
            WHERE r.id > $1 AND r.id <= $2 AND ${page.where} ORDER BY r.id LIMIT 500`,
          [after, lastId, ...page.params],
        );
        if (rows.length === 0) {
          break;
        }
        after = rows[rows.length - 1].id;
        await eachConcurrently(rows, options.concurrency ?? 8, async (row) => {
          const delivery = await options.sink.send(row.body, row.content_type ?? CONTENT_TYPE);
          tally.add(delivery);
          if (delivery.outcome === 'rejected') {
            summary.stillRejected++;
            if (delivery.rejectedId !== undefined && delivery.rejectedId !== row.id) {
              // Only ever a byte-identical copy of this row, whichever database the service used.
              await pool.query(
                `DELETE FROM rejected_events c USING rejected_events o
                  WHERE c.id = $1 AND o.id = $2 AND c.body = o.body AND c.replayed_at IS NULL`,
                [delivery.rejectedId, row.id],
              );
            }
          } else if (delivery.outcome === 'failed') {
            summary.failed++;
          } else {
            summary.replayed++;
            await pool.query(`UPDATE rejected_events SET replayed_at = now() WHERE id = $1`, [
              row.id,
            ]);
          }
          bar?.tick();
        });
      }
    } finally {
      bar?.stop();
    }
  } finally {
    await pool.end();
  }
  return { ...summary, tally, elapsedMs: Date.now() - started };
}

// --- command line -------------------------------------------------------------------------

const USAGE = `Usage:
  npm run replay -- <file.ndjson|file.json|dir>... [options]   backfill historical webhooks
  npm run replay -- --rejected [--since TIME] [--app ID] [options]   replay the rejected events

Options:
  --url URL           the service to post to (default http://localhost:$PORT, PORT=3000)
  --direct            write through the app's ingest service on the database instead of HTTP
                      (DATABASE_URL, else the embedded PostgreSQL), no running service needed
  --concurrency N     bodies in flight at once (default 8)
  --username U --password P   webhook Basic auth (default WEBHOOK_USERNAME / WEBHOOK_PASSWORD)
  --rejected          re-send the rejected_events rows not yet replayed, oldest first; those
                      accepted now are marked replayed_at (reads DATABASE_URL, else embedded)
  --since TIME        with --rejected: only rows received at or after TIME (ISO-8601 or Unix)
  --app ID            with --rejected: only rows of this app`;

/** --since, read as strictly as the API reads query times. */
function parseTime(value: string): Date {
  const ms = parseQueryTime(value);
  if (ms === null) {
    throw new Error(`--since: not a time (ISO-8601 or Unix seconds/ms): ${value}`);
  }
  return new Date(ms);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      direct: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '8' },
      username: { type: 'string', default: process.env.WEBHOOK_USERNAME },
      password: { type: 'string', default: process.env.WEBHOOK_PASSWORD },
      rejected: { type: 'boolean', default: false },
      since: { type: 'string' },
      app: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || (!values.rejected && positionals.length === 0)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error('--concurrency: a whole number ≥ 1');
  }
  const url = values.url ?? `http://localhost:${process.env.PORT ?? 3000}`;

  // The rejected table is read where the service writes it: DATABASE_URL, else the embedded one.
  let database: { url: string; close(): void } | undefined;
  if (values.rejected && !values.direct) {
    ensurePrismaClient();
    const [{ loadConfig }, { openDatabase }] = await Promise.all([
      import('../src/config/app-config'),
      import('../src/db/database'),
    ]);
    database = openDatabase(loadConfig());
  }
  const direct = values.direct ? await directSink() : undefined;
  const sink = direct ?? httpSink({ url, ...credentials(values) });
  try {
    if (!values.direct) {
      await assertReachable(url);
    }
    if (values.rejected) {
      const databaseUrl = (direct ?? database)!.url;
      const s = await replayRejected({
        sink,
        concurrency,
        progress: true,
        databaseUrl,
        since: values.since === undefined ? undefined : parseTime(values.since),
        appId: values.app,
      });
      console.log(
        `Replayed ${s.candidates} rejected events from ${redact(databaseUrl)} ${sink.description} in ${seconds(s.elapsedMs)}`,
      );
      console.log(`  now stored, marked replayed   ${s.replayed}`);
      console.log(`  rejected again, kept as is    ${s.stillRejected}`);
      console.log(`  not delivered, kept as is     ${s.failed}`);
      console.log(
        s.tally
          .lines()
          .filter((l) => l.startsWith('      '))
          .join('\n'),
      );
      return s.failed > 0 ? 1 : 0;
    }
    const s = await replayFiles(positionals, { sink, concurrency, progress: true });
    const rate = Math.round((s.tally.total / Math.max(1, s.elapsedMs)) * 1000);
    console.log(
      `Replayed ${s.tally.total} events from ${s.files} file(s) ${sink.description} in ${seconds(s.elapsedMs)} (${rate}/s)`,
    );
    console.log(s.tally.lines().join('\n'));
    return s.tally.counts.failed > 0 ? 1 : 0;
  } finally {
    await sink.close();
    database?.close();
  }
}

function credentials(values: { username?: string; password?: string }) {
  return values.username && values.password
    ? { username: values.username, password: values.password }
    : {};
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
