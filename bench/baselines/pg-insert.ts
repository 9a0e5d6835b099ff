// Baseline (b): the obvious hand-written handler, one single-row INSERT (autocommit) per request
// with node-postgres, into a table shaped like webhook_events' raw columns.
import { Pool } from 'pg';
import { serveBaseline, text } from './server';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 50 });

void serveBaseline(
  async ({ event, raw, sha256 }) => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO bench_pg_insert (app_id, trigger, webhook, event_at, body_sha256, body)
       VALUES ($1, $2, $3, now(), $4, $5::jsonb) RETURNING id`,
      [text(event.appId), text(event.trigger), text(event.webhook), sha256, raw.toString('utf8')],
    );
    return { eventId: rows[0].id, duplicate: false };
  },
  () => pool.end(),
);
