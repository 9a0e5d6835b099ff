import type { Pool } from 'pg';
import {
  PARTITIONED_TABLES,
  PartitionedTable,
  ensureCurrentPartitions,
  listPartitions,
} from './partitions';

export interface RetentionOptions {
  /** Raw rows older than this many ms before `now` go. */
  olderThanMs: number;
  /** The current time, epoch ms (injected in tests). */
  now: number;
  /** Only report what would go. */
  dryRun?: boolean;
}

export interface RetentionReport {
  /** Raw rows received (webhook_events) or dated (connection_events) before this went. */
  cutoff: Date;
  /** Month partitions wholly older than the cutoff, dropped, with their estimated rows. */
  dropped: { table: PartitionedTable; name: string; rows: number }[];
  /** Rows older than the cutoff deleted from the default partitions (times outside any month). */
  deletedFromDefault: Record<PartitionedTable, number>;
}

export class RetentionRefusedError extends Error {}

/**
 * Drops the raw log older than the cutoff: every month partition wholly before it, and the rows
 * before it in the default partitions. Derived state (messages, receipts, sessions, presence, the
 * latency histogram) is not touched: it stays whole. Refuses while events before the cutoff wait
 * for derivation. Records the horizon, so a full rebuild (`npm run rederive` without --since)
 * cannot silently rebuild a shorter history.
 */
export async function applyRetention(
  pool: Pool,
  options: RetentionOptions,
): Promise<RetentionReport> {
  if (!(options.olderThanMs > 0)) {
    throw new RetentionRefusedError('the age must be positive');
  }
  const cutoff = new Date(options.now - options.olderThanMs);
  const waiting = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM derivation_queue WHERE received_at < $1`,
    [cutoff],
  );
  if (Number(waiting.rows[0].n) > 0) {
    throw new RetentionRefusedError(
      `${waiting.rows[0].n} events received before ${cutoff.toISOString()} are not derived yet; ` +
        'let derivation catch up (GET /health shows the backlog), then run again',
    );
  }
  const old = (await listPartitions(pool)).filter((p) => p.to <= cutoff);
  const estimates = await pool.query<{ name: string; rows: string }>(
    `SELECT relname AS name, GREATEST(reltuples, 0)::bigint AS rows FROM pg_class
      WHERE relname = ANY($1::text[]) AND relnamespace = current_schema()::regnamespace`,
    [old.map((p) => p.name)],
  );
  const report: RetentionReport = {
    cutoff,
    dropped: old.map((p) => ({
      table: p.table,
      name: p.name,
      rows: Number(estimates.rows.find((r) => r.name === p.name)?.rows ?? 0),
    })),
    deletedFromDefault: { webhook_events: 0, connection_events: 0 },
  };
  if (options.dryRun) {
    for (const t of PARTITIONED_TABLES) {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${t.table}_default" WHERE "${t.time}" < $1`,
        [cutoff],
      );
      report.deletedFromDefault[t.table] = Number(rows[0].n);
    }
    return report;
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const p of old) {
      await client.query(`DROP TABLE "${p.name}"`);
    }
    for (const t of PARTITIONED_TABLES) {
      const { rowCount } = await client.query(
        `DELETE FROM "${t.table}_default" WHERE "${t.time}" < $1`,
        [cutoff],
      );
      report.deletedFromDefault[t.table] = rowCount ?? 0;
      await client.query(
        `INSERT INTO retention_horizon (table_name, dropped_before) VALUES ($1, $2)
         ON CONFLICT (table_name) DO UPDATE
            SET dropped_before = GREATEST(retention_horizon.dropped_before, EXCLUDED.dropped_before),
                ran_at = now()`,
        [t.table, cutoff],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  // The months ahead, while at it (the service does this too).
  await ensureCurrentPartitions(pool, options.now);
  return report;
}

/** Reads an age: a number and a unit, d (days) or h (hours), e.g. 90d. */
export function parseAge(text: string): number | null {
  const m = /^(\d+)([dh])$/.exec(text.trim());
  if (m === null || Number(m[1]) === 0) {
    return null;
  }
  return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
}
