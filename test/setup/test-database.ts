import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import * as embedded from '../../src/db/embedded-postgres';
import {
  citusWorkers,
  createCitusDatabase,
  distributeTestDatabase,
  dropCitusDatabase,
} from './citus-database';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The tests' own embedded cluster, apart from the one `npm start` uses. */
export const TEST_CLUSTER = {
  dataDir: path.join(ROOT, '.data', 'test-postgres'),
  // Port 0: any free port, so checkouts side by side never collide.
  port: Number(process.env.TEST_PG_PORT ?? 0),
  database: 'postgres',
};
const PREFIX = 'presence_test_';

function serverUrl(): { url: string; startedHere: boolean } {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, startedHere: false };
  }
  const { url, startedHere } = embedded.ensure(TEST_CLUSTER);
  return { url, startedHere };
}

async function admin<T>(url: string, work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/**
 * A fresh database for this test run, with every migration applied by `prisma migrate deploy`,
 * on DATABASE_URL's server when set. Each run has its own, so runs never disturb each other.
 * With TEST_CITUS_WORKERS set, DATABASE_URL is a Citus coordinator: the database is made on
 * every node, and distributed after the migrations.
 */
export async function createTestDatabase(
  server = serverUrl(),
): Promise<{ url: string; startedHere: boolean }> {
  const name = `${PREFIX}${process.pid}`;
  await admin(server.url, async (db) => {
    await db.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await db.query(`CREATE DATABASE "${name}"`);
  });
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const citus = citusWorkers().length > 0;
  if (citus) {
    await createCitusDatabase(url.toString());
  }
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url.toString() },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (citus) {
    await distributeTestDatabase(url.toString());
  }
  return { url: url.toString(), startedHere: server.startedHere };
}

/** Drops this run's database; stops the embedded cluster when no other run still uses it. */
export async function dropTestDatabase(testUrl: string, stopCluster: boolean): Promise<void> {
  const url = new URL(testUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const others = await admin(url.toString(), async (db) => {
    await db.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    const left = await db.query(`SELECT 1 FROM pg_database WHERE datname LIKE $1`, [`${PREFIX}%`]);
    return left.rowCount ?? 0;
  });
  await dropCitusDatabase(name);
  if (stopCluster && others === 0) {
    embedded.stop(TEST_CLUSTER);
  }
}
