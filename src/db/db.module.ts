import { Global, Module } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { createPool } from './pool';
import { PrismaService } from './prisma.service';
import { ReadReplica } from './read-replica.service';

export const DATABASE_URL = Symbol('DATABASE_URL');

@Global()
@Module({
  providers: [
    {
      provide: Pool,
      inject: [AppConfig, DATABASE_URL],
      useFactory: (config: AppConfig, url: string) => createPool(url, config),
    },
    { provide: PrismaService, inject: [Pool], useFactory: (pool: Pool) => new PrismaService(pool) },
    ReadReplica,
  ],
  exports: [Pool, PrismaService, ReadReplica],
})
export class DbModule {}
