import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The Prisma client, on a pg Pool the ingest writer shares for its multi-row SQL
 * (one pool, one set of connections, one place that sizes them).
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(readonly pool: Pool) {
    super({ adapter: new PrismaPg(pool) });
  }

  // After the HTTP server closed and in-flight requests were answered.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await this.pool.end();
  }
}
