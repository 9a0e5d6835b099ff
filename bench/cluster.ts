import path from 'node:path';
import { Client } from 'pg';
import * as embedded from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/database';
import { ROOT } from './processes';

export const DATA_DIR = path.join(ROOT, '.data', 'bench-postgres');
const PORT = 54359;
export const DATABASE = 'bench';

/**
 * Server settings for every target alike (service and baselines share this one cluster).
 * Sized for a dedicated 2-core box with plenty of RAM, as an operator would; durability is left
 * at PostgreSQL's defaults: fsync, synchronous_commit and full_page_writes stay on.
 */
export const SETTINGS: Record<string, string> = {
  shared_buffers: '4GB',
  effective_cache_size: '12GB',
  work_mem: '64MB',
  maintenance_work_mem: '1GB',
  // Seeding writes gigabytes of WAL; without room, checkpoints would run during the measurements.
  max_wal_size: '16GB',
  checkpoint_timeout: '30min',
  // JIT compiling adds 50-200 ms to one-off analytic queries on this size of data, never saves it.
  jit: 'off',
};

export interface Cluster {
  url: string;
  port: number;
  /** A connected client for the harness's own SQL (set-up, seeding, checks). */
  sql: Client;
  settings: Record<string, string>;
  close(): Promise<void>;
}

/** Starts (or restarts with SETTINGS) the bench cluster, creates a fresh database, migrates it. */
export async function startCluster(log: (line: string) => void): Promise<Cluster> {
  const options = { dataDir: DATA_DIR, port: PORT, database: 'postgres' };
  embedded.ensure(options);
  if (await applySettings(embedded.urlFor({ ...options }))) {
    log('restarting PostgreSQL with the bench settings');
    embedded.stop(options);
    embedded.ensure(options);
  }

  const admin = new Client({ connectionString: embedded.urlFor(options) });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  const { rows } = await admin.query<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings
      WHERE name = ANY($1) OR name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'server_version', 'max_connections')
      ORDER BY name`,
    [Object.keys(SETTINGS)],
  );
  await admin.end();

  const url = embedded.urlFor({ ...options, database: DATABASE });
  await applyMigrations(url);
  const sql = new Client({ connectionString: url });
  await sql.connect();
  return {
    url,
    port: PORT,
    sql,
    settings: Object.fromEntries(
      rows.map((r) => [r.name, r.setting + (r.unit ? ` ${r.unit}` : '')]),
    ),
    async close() {
      await sql.end().catch(() => undefined);
      embedded.stop(options);
    },
  };
}

/** Stops the bench cluster whatever state the run is in (used on failure and Ctrl-C). */
export function stopCluster(): void {
  try {
    embedded.stop({ dataDir: DATA_DIR, port: PORT });
  } catch {
    // Already stopped, or never started.
  }
}

/** ALTER SYSTEM for each setting; true when one of them only takes effect after a restart. */
async function applySettings(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const [name, value] of Object.entries(SETTINGS)) {
      await client.query(`ALTER SYSTEM SET ${name} = '${value}'`);
    }
    await client.query('SELECT pg_reload_conf()');
    // pending_restart is only updated once the postmaster has re-read the file.
    await new Promise((r) => setTimeout(r, 500));
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_settings WHERE pending_restart',
    );
    return Number(rows[0].n) > 0;
  } finally {
    await client.end();
  }
}
