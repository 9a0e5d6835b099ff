import type { ClientBase } from 'pg';

/**
 * SQL for the histogram bin of a latency in ms (the same as binOf() in latency-histogram.ts):
 * -2 message unknown (no latency), -1 zero (or negative, clock skew) ms, else the 2% log bin.
 */
export const latencyBinSql = (ms: string): string =>
  `(CASE WHEN ${ms} IS NULL THEN -2 WHEN ${ms} <= 0 THEN -1 ELSE floor(ln(${ms}) / ln(1.02)) END)::smallint`;

/**
 * Receipts whose counted values (tallied_*) differ from their current ones: new, moved earlier,
 * made explicit, or given their message's latency. Written exactly as the partial index
 * receipts_untallied_idx, so the planner finds them by it.
 */
const UNTALLIED = `(tallied_at IS NULL OR tallied_at <> at
    OR tallied_receiver_type IS DISTINCT FROM receiver_type
    OR tallied_implied <> implied OR tallied_latency_ms IS DISTINCT FROM latency_ms)`;

/** Adds signed rows (sign 1 counts a receipt in, -1 takes it out) to the hour and day bins. */
const ADD_TO_HISTOGRAM = (rows: string) => `
  INSERT INTO latency_histogram AS h (app_id, kind, span_hours, start, receiver_type, implied, bin, count, sum_ms)
  SELECT r.app_id, r.kind, s.hours, date_trunc(s.unit, r.at, 'UTC'), COALESCE(r.receiver_type, ''),
         r.implied, ${latencyBinSql('r.latency_ms')}, sum(r.sign), COALESCE(sum(r.sign * r.latency_ms), 0)
    FROM ${rows} r CROSS JOIN (VALUES (1, 'hour'), (24, 'day')) AS s(hours, unit)
   GROUP BY 1, 2, 3, 4, 5, 6, 7
  HAVING sum(r.sign) <> 0 OR COALESCE(sum(r.sign * r.latency_ms), 0) <> 0
   ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (app_id, kind, span_hours, start, receiver_type, implied, bin)
  DO UPDATE SET count = h.count + EXCLUDED.count, sum_ms = h.sum_ms + EXCLUDED.sum_ms`;

/**
 * Brings one app's latency histogram in step with its receipts, in the derivation's transaction:
 * each receipt whose values changed since it was last counted is taken out of its old bins and
 * counted in its new ones, and remembers what is now counted. One statement, pinned to the app
 * (it runs on one shard under Citus); the rows are locked in key order, so concurrent batches of
 * an app (which the derivation runner never has) could not deadlock on them either.
 */
export async function tallyLatencyHistogram(tx: ClientBase, appId: string): Promise<void> {
  await tx.query(
    `WITH pending AS (
       SELECT app_id, message_id, reader, kind, tallied_at, tallied_receiver_type, tallied_implied,
              tallied_latency_ms
         FROM receipts
        WHERE app_id = $1 AND ${UNTALLIED}
        ORDER BY message_id, reader, kind
          FOR UPDATE
     ), done AS (
       UPDATE receipts x
          SET tallied_at = x.at, tallied_receiver_type = x.receiver_type, tallied_implied = x.implied,
              tallied_latency_ms = x.latency_ms
         FROM pending p
        WHERE x.app_id = $1 AND x.app_id = p.app_id AND x.message_id = p.message_id
          AND x.reader = p.reader AND x.kind = p.kind
       RETURNING x.app_id, x.kind, x.at, x.receiver_type, x.implied, x.latency_ms,
                 p.tallied_at AS old_at, p.tallied_receiver_type AS old_receiver_type,
                 p.tallied_implied AS old_implied, p.tallied_latency_ms AS old_latency_ms
     ), moves AS (
       SELECT app_id, kind, at, receiver_type, implied, latency_ms, 1 AS sign FROM done
       UNION ALL
       SELECT app_id, kind, old_at, old_receiver_type, old_implied, old_latency_ms, -1 FROM done
        WHERE old_at IS NOT NULL
     )
     ${ADD_TO_HISTOGRAM('moves')}`,
    [appId],
  );
}

/**
 * Rebuilds one app's histogram from its receipts alone (bulk loads, e.g. the bench's seed):
 * clears its bins, then counts every receipt as it is.
 */
export async function rebuildLatencyHistogram(tx: ClientBase, appId: string): Promise<void> {
  await tx.query(`DELETE FROM latency_histogram WHERE app_id = $1`, [appId]);
  await tx.query(
    `UPDATE receipts SET tallied_at = at, tallied_receiver_type = receiver_type,
                         tallied_implied = implied, tallied_latency_ms = latency_ms
      WHERE app_id = $1 AND ${UNTALLIED}`,
    [appId],
  );
  await tx.query(
    `${ADD_TO_HISTOGRAM(`(SELECT app_id, kind, at, receiver_type, implied, latency_ms, 1 AS sign
                            FROM receipts WHERE app_id = $1)`)}`,
    [appId],
  );
}
