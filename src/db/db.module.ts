import { Global, Logger, Module } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { PrismaService } from './prisma.service';

export const DATABASE_URL = Symbol('DATABASE_URL');

@Global()
@Module({
  providers: [
    {
      provide: Pool,
      inject: [AppConfig, DATABASE_URL],
      useFactory: (config: AppConfig, url: string) => {
        const pool = new Pool({
          connectionString: url,
          max: config.DB_POOL_SIZE,
          connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT_MS,
          idleTimeoutMillis: 30_000,
        });
        // A client losing its server (outage, restart) must not crash the process: pg emits
        // 'error' on idle and on checked-out clients alike; the pool drops the broken ones.
        const logger = new Logger('Database');
        pool.on('error', (error) => logger.warn(`Idle connection lost: ${error.message}`));
        pool.on('connect', (client) =>
          client.on('error', (error) => logger.warn(`Connection lost: ${error.message}`)),
        );
        return pool;
      },
    },
    { provide: PrismaService, inject: [Pool], useFactory: (pool: Pool) => new PrismaService(pool) },
  ],
  exports: [Pool, PrismaService],
})
export class DbModule {}
