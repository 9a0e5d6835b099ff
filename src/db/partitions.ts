import type { Pool, PoolClient } from 'pg';
import { sqlState } from './database-errors';

type Db = Pick<Pool | PoolClient, 'query'>;

/** The raw tables, partitioned by UTC month (see the scale_out_schema migration). */
export const PARTITIONED_TABLES = [
  {
    table: 'webhook_events',
    /** The partition key: the month the event was received in (a date). */
    column: 'received_month',
    /** A row's time, for rows in the default partition. */
    time: 'received_at',
    bound: (month: Date) => month.toISOString().slice(0, 10),
  },
  {
    table: 'connection_events',
    /** The partition key: the event's own time. */
    column: 'at',
    time: 'at',
    bound: (month: Date) => month.toISOString(),
  },
] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number]['table'];

/** How many months ahead of the current one get their partitions early. */
export const MONTHS_AHEAD = 2;

export const monthStart = (t: number): Date => {
  const d = new Date(t);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
};
const addMonths = (m: Date, n: number) =>
  new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + n, 1));
const partitionName = (table: string, month: Date) =>
  `${table}_${month.toISOString().slice(0, 7).replace('-', '_')}`;

export interface Partition {
  table: PartitionedTable;
  name: string;
  /** The month it holds: [from, to). */
  from: Date;
  to: Date;
}

/** The month partitions of the raw tables (not the default ones), oldest first. */
export async function listPartitions(db: Db): Promise<Partition[]> {
  const { rows } = await db.query<{ parent: string; name: string; bound: string }>(
    `SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = ANY($1::text[]) AND p.relnamespace = current_schema()::regnamespace`,
    [PARTITIONED_TABLES.map((t) => t.table)],
  );
  return rows
    .flatMap((r) => {
      const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
      if (m === null) {
        return []; // the default partition
      }
      const time = (s: string) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s);
      return [
        { table: r.parent as PartitionedTable, name: r.name, from: time(m[1]), to: time(m[2]) },
      ];
    })
    .sort((a, b) => a.from.getTime() - b.from.getTime() || a.table.localeCompare(b.table));
}

export interface EnsureResult {
  created: string[];
  /** Months whose rows already sit in the default partition: left there (retention still sees them). */
  skipped: string[];
}

/**
 * Creates the month partitions of [first, last] months that are missing (idempotent; several
 * instances may run it at once). Under Citus, a partition of a distributed table is distributed
 * with it. A month that already has rows in the default partition (the service was down when
 * its partition was due) is skipped: PostgreSQL cannot create it without moving them.
 */
export async function ensurePartitions(db: Db, first: Date, last: Date): Promise<EnsureResult> {
  const existing = new Set((await listPartitions(db)).map((p) => `${p.table}/${p.from.getTime()}`));
  const result: EnsureResult = { created: [], skipped: [] };
  for (let month = monthStart(first.getTime()); month <= last; month = addMonths(month, 1)) {
    for (const t of PARTITIONED_TABLES) {
      if (existing.has(`${t.table}/${month.getTime()}`)) {
        continue;
      }
      const name = partitionName(t.table, month);
      try {
        await db.query(
          `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "${t.table}"
             FOR VALUES FROM ('${t.bound(month)}') TO ('${t.bound(addMonths(month, 1))}')`,
        );
        result.created.push(name);
      } catch (error) {
        // 23514: the default partition holds rows of that month; 42P07/23505: another instance
        // created it at the same moment.
        const state = sqlState(error);
        if (state === '23514') {
          result.skipped.push(name);
        } else if (state !== '42P07' && state !== '23505') {
          throw error;
        }
      }
    }
  }
  return result;
}

/** The current month's partitions and MONTHS_AHEAD more. */
export function ensureCurrentPartitions(db: Db, now: number): Promise<EnsureResult> {
  const current = monthStart(now);
  return ensurePartitions(db, current, addMonths(current, MONTHS_AHEAD));
}
