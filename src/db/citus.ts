import { Client } from 'pg';

/** Every distributed table is co-located with this one: one app's rows of all tables on one shard. */
export const COLOCATION_ANCHOR = 'webhook_events';

export class DistributionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistributionRefused';
  }
}

export interface DistributionResult {
  /** tables distributed by this call */
  distributed: string[];
  /** tables that already were */
  already: string[];
  /** tables left local on the coordinator, with why */
  local: { table: string; why: string }[];
}

/**
 * The tables to distribute by app_id: every table (or partitioned parent) of the schema with a
 * NOT NULL app_id, the anchor first. rejected_events has a nullable app_id (a body that could not
 * be read may name no app) and no statement joins it to another table: it stays local.
 */
async function tablesByAppId(db: Client): Promise<{ table: string; appIdNullable: boolean }[]> {
  const { rows } = await db.query<{ table: string; nullable: boolean }>(
    `SELECT c.relname AS table, NOT a.attnotnull AS nullable
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'app_id' AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname <> $1, c.relname`,
    [COLOCATION_ANCHOR],
  );
  return rows.map((row) => ({ table: row.table, appIdNullable: row.nullable }));
}

/**
 * Distributes every app-keyed table by app_id, co-located, on a database with the Citus
 * extension (`npm run db:distribute`). Idempotent: tables already distributed are left as they
 * are. A table that holds rows is copied into its shards and its local copy emptied.
 */
export async function distributeByApp(db: Client): Promise<DistributionResult> {
  const { rows: citus } = await db.query<{ installed: boolean; available: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'citus') AS available`,
  );
  if (!citus[0].installed) {
    throw new DistributionRefused(
      citus[0].available
        ? 'This database has no Citus extension: run CREATE EXTENSION citus (on the coordinator and ' +
            'every worker, with shared_preload_libraries = citus) and add the workers ' +
            '(SELECT citus_add_node(host, port)) first.'
        : 'This PostgreSQL has no Citus: distribution needs a Citus cluster (see README, "Scaling"). ' +
            'On plain PostgreSQL the schema is complete as migrated; there is nothing to distribute.',
    );
  }
  const { rows: migrated } = await db.query<{ ok: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS ok`,
    [COLOCATION_ANCHOR],
  );
  if (!migrated[0].ok) {
    throw new DistributionRefused(
      `This database has no ${COLOCATION_ANCHOR} table: apply the migrations first ` +
        '(npx prisma migrate deploy, or start the service once).',
    );
  }
  const result: DistributionResult = { distributed: [], already: [], local: [] };
  const { rows: done } = await db.query<{ table: string }>(
    `SELECT logicalrelid::regclass::text AS table FROM pg_dist_partition`,
  );
  const distributed = new Set(done.map((row) => row.table));
  for (const { table, appIdNullable } of await tablesByAppId(db)) {
    if (appIdNullable) {
      result.local.push({ table, why: 'app_id may be null' });
      continue;
    }
    if (distributed.has(table)) {
      result.already.push(table);
      continue;
    }
    const { rows } = await db.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(table)}) AS any`,
    );
    await db.query(
      `SELECT create_distributed_table($1, 'app_id', colocate_with => $2)`,
      table === COLOCATION_ANCHOR ? [table, 'default'] : [table, COLOCATION_ANCHOR],
    );
    if (rows[0].any) {
      await db.query(`SELECT truncate_local_data_after_distributing_table($1)`, [table]);
    }
    result.distributed.push(table);
  }
  return result;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
