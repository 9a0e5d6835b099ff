import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { ReadReplica } from '../db/read-replica.service';
import { DerivationRunner } from '../ingest/derivation-runner.service';
import { IngestWriter } from '../ingest/ingest-writer.service';

const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'prisma', 'migrations');

/**
 * What /health waits for: the database answers, every migration in prisma/migrations is
 * applied (as `prisma migrate deploy` records it), and the ingest queue has room.
 * Terminus's PrismaHealthIndicator is not used: it probes with `$runCommandRaw`, which Prisma
 * 7's PostgreSQL client no longer has.
 */
@Injectable()
export class ReadinessIndicators {
  private readonly expectedMigrations = readMigrationNames();

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly pool: Pool,
    private readonly writer: IngestWriter,
    private readonly config: AppConfig,
    private readonly runner: DerivationRunner,
    private readonly readReplica: ReadReplica,
  ) {}

  get replicaConfigured(): boolean {
    return this.readReplica.configured;
  }

  async database() {
    const check = this.health.check('database');
    try {
      await this.query('SELECT 1');
      return check.up();
    } catch (error) {
      return check.down(failure(error));
    }
  }

  async migrations() {
    const check = this.health.check('migrations');
    let rows: { migration_name: string; finished: boolean }[];
    try {
      rows = await this.query<{ migration_name: string; finished: boolean }>(
        `SELECT migration_name, finished_at IS NOT NULL AS finished
           FROM _prisma_migrations WHERE rolled_back_at IS NULL`,
      );
    } catch (error) {
      // 42P01: no _prisma_migrations table, so nothing was ever applied.
      if ((error as { code?: string }).code !== '42P01') {
        return check.down(failure(error));
      }
      rows = [];
    }
    const applied = new Set(rows.filter((r) => r.finished).map((r) => r.migration_name));
    // Started and neither finished nor rolled back: failed, or being applied right now.
    const unfinished = rows.filter((r) => !r.finished).map((r) => r.migration_name);
    const pending = (this.expectedMigrations ?? []).filter((name) => !applied.has(name));
    return pending.length === 0 && unfinished.length === 0
      ? check.up({ applied: applied.size })
      : check.down({ applied: applied.size, pending, unfinished });
  }

  ingestQueue() {
    const check = this.health.check('ingestQueue');
    const status = { depth: this.writer.depth, limit: this.config.INGEST_QUEUE_LIMIT };
    return status.depth < status.limit ? check.up(status) : check.down(status);
  }

  /**
   * Backlog and lag of derivation. Stays up when lagging (every instance shares the backlog, so
   * taking one out of a load balancer would not help) but says `degraded` past the threshold.
   */
  async derivation() {
    const check = this.health.check('derivation');
    try {
      const status = await this.runner.status();
      return check.up({
        ...status,
        degraded: status.lagMs > this.config.DERIVATION_LAG_DEGRADED_MS,
        degradedAfterMs: this.config.DERIVATION_LAG_DEGRADED_MS,
      });
    } catch (error) {
      return check.down(failure(error));
    }
  }

  /**
   * The read replica's lag. Stays up when the replica is down or behind: the primary answers its
   * reads meanwhile, so the instance still serves everything; `degraded` says so (unreachable,
   * replay paused, or further behind than a read waits for it).
   */
  async replica() {
    const status = await this.readReplica.status();
    const behind = (status.lagMs ?? 0) > this.config.REPLICA_MAX_WAIT_MS;
    return this.health.check('replica').up({
      ...status,
      degraded: !status.reachable || status.replayPaused === true || behind,
    });
  }

  /** pg's own timeout only covers connecting; a server that stopped answering must not hang us. */
  private async query<T>(sql: string): Promise<T[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.config.DB_CONNECT_TIMEOUT_MS} ms`)),
        this.config.DB_CONNECT_TIMEOUT_MS,
      );
    });
    try {
      return (await Promise.race([this.pool.query(sql), timeout])).rows as T[];
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The error code (ECONNREFUSED, 57P01…) but not its message: /health is public. */
function failure(error: unknown) {
  const code = (error as { code?: unknown }).code;
  return { message: 'database unreachable', ...(typeof code === 'string' ? { code } : {}) };
}

/** null when the folder is not deployed: then only failed or unfinished migrations count. */
function readMigrationNames(): string[] | null {
  try {
    return readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      return null;
    }
    throw error;
  }
}
