import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import * as embedded from '../../scripts/embedded-postgres';

export const ROOT = path.resolve(__dirname, '..', '..');
/** The tests' own embedded cluster, apart from the one `npm start` uses. */
export const TEST_CLUSTER = {
  dataDir: path.join(ROOT, '.data', 'test-postgres'),
  port: Number(process.env.TEST_PG_PORT ?? 54339),
  database: 'postgres',
};

/** A fresh database with every migration applied; on DATABASE_URL's server when set. */
export async function createTestDatabase(): Promise<{ url: string; startedHere: boolean }> {
  let serverUrl: string;
  let startedHere = false;
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    const started = embedded.ensure(TEST_CLUSTER);
    serverUrl = started.url;
    startedHere = started.startedHere;
  }
  const url = new URL(serverUrl);
  const name = `${url.pathname.slice(1) || 'postgres'}_test`.replace(/[^a-z0-9_]/gi, '_');
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  url.pathname = `/${name}`;
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url.toString() },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { url: url.toString(), startedHere };
}
