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
  'activity_days',
  'activity_counts',
  'activity_horizon',
  'derivation_failures',
];

export interface RederiveOptions {
  appId?: string;
  /** Only events whose own time is at or after this (epoch ms): re-applied on top of what exists. */
  since?: number;
  /** A full rebuild even though retention has dropped part of the log (its older state is lost). */
  force?: boolean;
}

export class RebuildRefusedError extends Error {}

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
  if (options.since === undefined && !options.force) {
    const { rows } = await pool.query<{ before: Date }>(
      `SELECT max(dropped_before) AS before FROM retention_horizon`,
    );
    if (rows[0].before !== null) {
      throw new RebuildRefusedError(
        `retention has dropped the raw log before ${rows[0].before.toISOString()}: a full rebuild ` +
          'would lose the state derived from it. Re-apply with --since (at or after that time), ' +
          'or pass --force to rebuild from what is left',
      );
    }
  }
  const apps =
    options.appId !== undefined
      ? [options.appId]
      : (
          await pool.query<{ app_id: string }>(
            // Every event is derived again next, so reading the log's index once costs little.
            `SELECT app_id FROM webhook_events GROUP BY app_id ORDER BY app_id`,
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
