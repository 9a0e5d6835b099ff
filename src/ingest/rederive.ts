import { Pool } from 'pg';

/** The derived tables of one app, cleared by a full rebuild (the histogram last: receipts feed it). */
const DERIVED_TABLES = [
  'messages',
  'receipts',
  'group_receipts',
  'group_member_events',
  'group_memberships',
  'user_conversations',
  'connection_events',
  'sessions',
  'presence',
  'latency_histogram',
  'derivation_failures',
];

export interface RederiveOptions {
  appId?: string;
  /** Only events whose own time is at or after this (epoch ms): re-applied on top of what exists. */
  since?: number;
}

/**
 * Puts raw events back on the derivation queue, so the runners (the service's, or the caller's)
 * derive them again. Without `since`, each app's derived rows are deleted first in the same
 * transaction: its state is rebuilt from its log alone. With `since`, the events from then on
 * are applied again over the existing state (what they add is filled in; nothing is removed).
 * Returns how many events were queued per app.
 */
export async function requeueForRederive(
  pool: Pool,
  options: RederiveOptions = {},
): Promise<Map<string, number>> {
  const apps =
    options.appId !== undefined
      ? [options.appId]
      : (
          await pool.query<{ app_id: string }>(
            // A loose index scan: one probe per app instead of reading every event.
            `WITH RECURSIVE apps AS (
               (SELECT app_id FROM webhook_events ORDER BY app_id LIMIT 1)
               UNION ALL
               SELECT (SELECT w.app_id FROM webhook_events w WHERE w.app_id > apps.app_id ORDER BY w.app_id LIMIT 1)
                 FROM apps WHERE apps.app_id IS NOT NULL
             )
             SELECT app_id FROM apps WHERE app_id IS NOT NULL`,
          )
        ).rows.map((r) => r.app_id);
  const queued = new Map<string, number>();
  for (const app of apps) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (options.since === undefined) {
        for (const table of DERIVED_TABLES) {
          await client.query(`DELETE FROM ${table} WHERE app_id = $1`, [app]);
        }
      }
      const { rowCount } = await client.query(
        `INSERT INTO derivation_queue (app_id, event_id, received_at)
         SELECT app_id, id, received_at FROM webhook_events
          WHERE app_id = $1 AND ($2::float8 IS NULL OR event_at >= to_timestamp($2 / 1000.0))
         ON CONFLICT DO NOTHING`,
        [app, options.since ?? null],
      );
      await client.query('COMMIT');
      queued.set(app, rowCount ?? 0);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  return queued;
}
