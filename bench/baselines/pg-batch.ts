// Baseline (e): the ceiling of the ack path. Fastify plus group commit: requests wait up to
// BATCH_WAIT_MS (or until BATCH_MAX are waiting), then one multi-row INSERT … SELECT FROM unnest
// writes them into a table created LIKE webhook_events INCLUDING ALL (the same columns, defaults,
// primary key, unique keys and indexes), and each request is answered after its batch committed.
import { Pool } from 'pg';
import { serveBaseline, text } from './server';

const BATCH_MAX = Number(process.env.BATCH_MAX ?? 500);
const BATCH_WAIT_MS = Number(process.env.BATCH_WAIT_MS ?? 1);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

interface Row {
  appId: string;
  trigger: string;
  webhook: string | null;
  uid: string | null;
  sha256: string;
  body: string;
}
interface Waiting {
  row: Row;
  resolve: (answer: { eventId: string | null; duplicate: boolean }) => void;
  reject: (error: Error) => void;
}

let waiting: Waiting[] = [];
let timer: NodeJS.Timeout | undefined;

function submit(row: Row): Promise<{ eventId: string | null; duplicate: boolean }> {
  return new Promise((resolve, reject) => {
    waiting.push({ row, resolve, reject });
    if (waiting.length >= BATCH_MAX) {
      flush();
    } else {
      timer ??= setTimeout(flush, BATCH_WAIT_MS);
    }
  });
}

function flush(): void {
  clearTimeout(timer);
  timer = undefined;
  const batch = waiting;
  waiting = [];
  if (batch.length === 0) {
    return;
  }
  const rows = batch.map((w) => w.row);
  pool
    .query<{ id: string; h: string }>(
      `INSERT INTO bench_pg_batch (app_id, trigger, webhook, uid, event_at, body_sha256, body)
       SELECT a, t, w, u, now(), decode(h, 'hex'), b::jsonb
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              AS x(a, t, w, u, h, b)
       ON CONFLICT DO NOTHING
       RETURNING id, encode(body_sha256, 'hex') AS h`,
      [
        rows.map((r) => r.appId),
        rows.map((r) => r.trigger),
        rows.map((r) => r.webhook),
        rows.map((r) => r.uid),
        rows.map((r) => r.sha256),
        rows.map((r) => r.body),
      ],
    )
    .then(({ rows: inserted }) => {
      const ids = new Map(inserted.map((r) => [r.h, r.id]));
      for (const w of batch) {
        const eventId = ids.get(w.row.sha256) ?? null;
        w.resolve({ eventId, duplicate: eventId === null });
      }
    })
    .catch((error: Error) => batch.forEach((w) => w.reject(error)));
}

void serveBaseline(
  ({ event, raw, sha256 }) =>
    submit({
      appId: text(event.appId) ?? 'unknown',
      trigger: text(event.trigger) ?? 'unknown',
      webhook: text(event.webhook),
      uid: null,
      sha256: sha256.toString('hex'),
      body: raw.toString('utf8'),
    }),
  () => pool.end(),
);
