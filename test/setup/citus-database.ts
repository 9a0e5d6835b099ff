import { Client } from 'pg';
import { distributeByApp } from '../../src/db/citus';

/**
 * The Citus workers of DATABASE_URL's server (the coordinator), when the tests run on a Citus
 * cluster (`npm run test:scale` sets it): their server URLs, comma-separated.
 */
export function citusWorkers(): string[] {
  return (process.env.TEST_CITUS_WORKERS ?? '').split(',').filter(Boolean);
}

export async function onServer(url: string, statements: string[]): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    for (const statement of statements) {
      await db.query(statement);
    }
  } finally {
    await db.end();
  }
}

export function inDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Makes a database a Citus one: the extension on every node (each holds a database of that name),
 * the coordinator registered, the workers added.
 */
export async function prepareCitusDatabase(
  coordinatorUrl: string,
  workerUrls: string[],
): Promise<void> {
  for (const url of workerUrls) {
    await onServer(url, ['CREATE EXTENSION IF NOT EXISTS citus']);
  }
  const coordinator = new URL(coordinatorUrl);
  const database = coordinator.pathname.slice(1);
  await onServer(coordinatorUrl, [
    'CREATE EXTENSION IF NOT EXISTS citus',
    // Some specs inject faults with row triggers on distributed tables (the schema has none);
    // Citus takes those only when told that they are safe.
    `ALTER DATABASE "${database}" SET citus.enable_unsafe_triggers = on`,
    `SELECT citus_set_coordinator_host('${coordinator.hostname}', ${Number(coordinator.port)})`,
    ...workerUrls.map((worker) => {
      const { hostname, port } = new URL(worker);
      return `SELECT citus_add_node('${hostname}', ${Number(port)})`;
    }),
  ]);
}

/** The same database on every worker, with Citus on all nodes (before the migrations). */
export async function createCitusDatabase(coordinatorDbUrl: string): Promise<void> {
  const name = new URL(coordinatorDbUrl).pathname.slice(1);
  const workers = citusWorkers();
  for (const worker of workers) {
    await onServer(worker, [
      `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`,
      `CREATE DATABASE "${name}"`,
    ]);
  }
  await prepareCitusDatabase(
    coordinatorDbUrl,
    workers.map((worker) => inDatabase(worker, name)),
  );
}

/** After the migrations: every app-keyed table distributed by app_id (`npm run db:distribute`). */
export async function distributeTestDatabase(coordinatorDbUrl: string): Promise<void> {
  const db = new Client({ connectionString: coordinatorDbUrl });
  await db.connect();
  try {
    await distributeByApp(db);
  } finally {
    await db.end();
  }
}

export async function dropCitusDatabase(name: string): Promise<void> {
  for (const worker of citusWorkers()) {
    await onServer(worker, [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
  }
}
