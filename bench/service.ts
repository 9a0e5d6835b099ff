import path from 'node:path';
import { Child, listening, LOG_DIR, start } from './processes';

export interface Service {
  child: Child;
  url: string;
  /** Authorization header for the webhook (Basic) and for the query API (Bearer). */
  webhookAuth: string;
  apiAuth: string;
}

const PORT = 3390;
export const CPU_PROFILE_DIR = path.join(LOG_DIR, 'cpu-profile');
const USER = 'bench';
const PASSWORD = 'bench-webhook-secret';
const API_KEY = 'bench-api-key';

/**
 * The built service (its main.js) as its own process, configured as in production: basic auth on
 * the webhook, an API key on queries, warn-level logs. Tuning variables such as DB_POOL_SIZE or
 * INGEST_MAX_BATCH pass through from the environment the bench runs in.
 */
export async function startService(
  main: string,
  databaseUrl: string,
  cpuProfile = false,
): Promise<Service> {
  const profiling = cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : [];
  const child = start('service', process.execPath, [...profiling, main], {
    PORT: String(PORT),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    RUN_MIGRATIONS: 'false',
    LOG_LEVEL: 'warn',
    WEBHOOK_USERNAME: USER,
    WEBHOOK_PASSWORD: PASSWORD,
    API_KEY,
  });
  await listening(child, PORT);
  return {
    child,
    url: `http://127.0.0.1:${PORT}`,
    webhookAuth: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    apiAuth: `Bearer ${API_KEY}`,
  };
}
