import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { createApp } from '../../src/app.setup';
import { loadConfig } from '../../src/config/app-config';
import { INGEST_TABLES } from '../../src/ingest/ingest-writer.service';

export const testDatabaseUrl = () => {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error('TEST_DATABASE_URL is set by test/setup/global-setup.ts');
  }
  return url;
};

/** The real app (Fastify, pipes, filters) on the test database, for app.inject(). */
export async function startApp(
  env: Record<string, string> = {},
  databaseUrl = testDatabaseUrl(),
  options: Parameters<typeof createApp>[2] = {},
): Promise<NestFastifyApplication> {
  // TEST_LOG_LEVEL=warn shows the service's warnings (derivation pauses, failures) in a test run.
  const config = loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal', ...env });
  const app = await createApp(config, databaseUrl, options);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const TABLES = [...INGEST_TABLES, 'rejected_events'];

/** Empties every table; a running app's derivation loop may hold some of them, so deadlocks retry. */
export async function resetDatabase(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withDb((db) => db.query(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) {
        throw error;
      }
    }
  }
}

export async function withDb<T>(work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/**
 * Rows of a query once derivation has caught up: acked events are derived in the background, and
 * a test reading derived tables wants them settled, as the HTTP queries wait (read-your-writes).
 * Use withDb to look at the tables as they are.
 */
export async function rows<T = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return withDb(async (db) => {
    await waitForDerivation(db);
    return (await db.query(sql, params)).rows as T[];
  });
}

/** Waits until no committed event awaits derivation (a running app derives them). */
export async function waitForDerivation(
  db: Client,
  timeoutMs = Number(process.env.TEST_DERIVATION_WAIT_MS ?? 20_000),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows: pending } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM derivation_queue`,
    );
    if (pending[0].n === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`${pending[0].n} events still await derivation after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
