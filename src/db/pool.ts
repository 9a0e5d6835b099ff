import { Logger } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { UnnamedStatementsClient } from './prepared';

/** A pg Pool sized and timed by the configuration; `name` tells its connections apart in logs. */
export function createPool(url: string, config: AppConfig, name = 'Database'): Pool {
  const pool = new Pool({
    connectionString: url,
    max: config.DB_POOL_SIZE,
    connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    ...(config.DB_PREPARED_STATEMENTS ? {} : { Client: UnnamedStatementsClient }),
  });
  // A client losing its server (outage, restart) must not crash the process: pg emits
  // 'error' on idle and on checked-out clients alike; the pool drops the broken ones.
  const logger = new Logger(name);
  pool.on('error', (error) => logger.warn(`Idle connection lost: ${error.message}`));
  pool.on('connect', (client) =>
    client.on('error', (error) => logger.warn(`Connection lost: ${error.message}`)),
  );
  return pool;
}
