import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@nestjs/common';
import * as embedded from './embedded-postgres';
import { AppConfig } from '../config/app-config';

const ROOT = path.resolve(__dirname, '..', '..');

export interface DatabaseHandle {
  url: string;
  /** Stops the embedded server if this process started it. */
  close(): void;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under EMBEDDED_PG_DIR. */
export function openDatabase(config: AppConfig, logger = new Logger('Database')): DatabaseHandle {
  if (config.DATABASE_URL) {
    return { url: config.DATABASE_URL, close: () => undefined };
  }
  const options = {
    dataDir: path.resolve(ROOT, config.EMBEDDED_PG_DIR),
    port: config.EMBEDDED_PG_PORT,
  };
  const { url, startedHere } = embedded.ensure(options);
  logger.log(
    `${startedHere ? 'Started' : 'Using running'} embedded PostgreSQL on port ${options.port} (${options.dataDir})`,
  );
  return {
    url,
    close: () => {
      if (startedHere) {
        embedded.stop(options);
      }
    },
  };
}

/** Applies pending migrations the ordinary way, with `prisma migrate deploy`. */
export async function applyMigrations(url: string, logger = new Logger('Database')): Promise<void> {
  const cli = require.resolve('prisma/build/index.js', { paths: [ROOT] });
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [cli, 'migrate', 'deploy'],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url },
    },
  );
  const summary = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) =>
      /migrations? (found|have been|applied)|No pending|database schema is up to date/i.test(line),
    )
    .map((line) => line.trim());
  logger.log(summary.join(' ') || 'Migrations applied');
}
