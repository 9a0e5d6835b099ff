import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { isConnectionError, sqlState } from './database-errors';
import { createPool } from './pool';
import { PrismaService } from './prisma.service';

export type ReadServer = 'replica' | 'primary';

export interface ReplicaStatus {
  /** The replica answered, as a standby. */
  reachable: boolean;
  /** WAL the primary has written and the replica not yet replayed, in bytes. */
  lagBytes: number | null;
  /** 0 when caught up; else how long ago the replica replayed its latest transaction. */
  lagMs: number | null;
  /** Replay paused on the replica (`pg_wal_replay_pause()`). */
  replayPaused: boolean | null;
}

/** After the replica failed, reads skip it this long rather than each paying a connect attempt. */
const RETRY_AFTER_MS = 1000;
/** How often a read waiting for the replica asks how far it has replayed. */
const POLL_MS = 5;

/** A WAL position as PostgreSQL writes it (`16/B374D848`), in bytes. */
export function walPosition(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** Connection lost or refused, the server shutting down or starting up, too many connections. */
const GONE = /^(08...|57P0[123]|53300)$/;

/** The replica cannot be used now (Prisma reports a lost connection only by its SQLSTATE). */
function isGone(error: unknown): boolean {
  return isConnectionError(error) || GONE.test(sqlState(error) ?? '');
}

/**
 * A replica's failure that the primary can answer instead: the replica gone, or a query it
 * cancelled because replay needed the rows it read (40001, "conflict with recovery").
 */
export function isReplicaFault(error: unknown): boolean {
  return isGone(error) || sqlState(error) === '40001';
}

/** `work`'s result, or 'timeout' once `ms` passed (work itself goes on). */
async function within<T>(ms: number, work: Promise<T>): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * DATABASE_REPLICA_URL: a streaming replica for the heavy reads. A read goes there only once the
 * replica has replayed the primary's WAL as it stood when the read became due (after
 * read-your-writes' wait), so it sees everything the primary would show; otherwise, or when the
 * replica is down or failing, the primary answers. The replica never causes an error answer.
 */
@Injectable()
export class ReadReplica implements OnApplicationShutdown {
  private readonly logger = new Logger(ReadReplica.name);
  private readonly replica?: PrismaService;
  private readonly server = new AsyncLocalStorage<PrismaService>();
  /** The furthest WAL position the replica was seen to have replayed (replay only moves on). */
  private replayed = -1n;
  private asking?: Promise<bigint | null>;
  private skipUntil = 0;
  private failing = false;

  constructor(
    private readonly primary: PrismaService,
    private readonly config: AppConfig,
  ) {
    if (config.DATABASE_REPLICA_URL) {
      this.replica = new PrismaService(createPool(config.DATABASE_REPLICA_URL, config, 'Replica'));
    }
  }

  get configured(): boolean {
    return this.replica !== undefined;
  }

  /** The client for this request's reads: the replica's inside `readOn('replica', …)`. */
  get prisma(): PrismaService {
    return this.server.getStore() ?? this.primary;
  }

  /** Runs `work`, and everything it starts, with `prisma` being that server's client. */
  readOn<T>(server: ReadServer, work: () => T): T {
    return this.server.run(
      server === 'replica' ? (this.replica ?? this.primary) : this.primary,
      work,
    );
  }

  /**
   * Which server answers a read due now: the replica once it has replayed the primary's current
   * WAL position, waiting at most `waitMs` for that; 'as-is' takes the replica without asking
   * (`Prefer: wait=0`) once it was seen to be a standby and has not failed since. The primary when no replica is set or
   * it failed in the last second.
   */
  async choose(waitMs: number | 'as-is'): Promise<ReadServer> {
    const replica = this.replica;
    if (!replica || performance.now() < this.skipUntil) {
      return 'primary';
    }
    if (waitMs === 'as-is') {
      // As it is, without asking, once it was seen to be a standby and has not failed since;
      // otherwise ask first, so the answer never depends on timing.
      if (!this.failing && this.replayed >= 0n) {
        return 'replica';
      }
      const replayed = await within(this.config.DB_CONNECT_TIMEOUT_MS, this.askReplayed(replica));
      return replayed === 'timeout' || replayed === null ? 'primary' : 'replica';
    }
    const deadline = performance.now() + waitMs;
    // Commits wait for their WAL to be written (and flushed) unless synchronous_commit is off:
    // then a transaction this read must see may still sit past the write position.
    const { rows } = await this.primary.pool.query<{ lsn: string }>(
      `SELECT CASE WHEN current_setting('synchronous_commit') = 'off'
         THEN pg_current_wal_insert_lsn()
         ELSE pg_current_wal_lsn()
       END::text AS lsn`,
    );
    const due = walPosition(rows[0].lsn);
    for (;;) {
      if (this.replayed >= due) {
        return 'replica';
      }
      const replayed = await within(
        Math.max(deadline - performance.now(), POLL_MS),
        this.askReplayed(replica),
      );
      if (replayed === 'timeout' || replayed === null) {
        return 'primary';
      }
      if (replayed >= due) {
        return 'replica';
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        return 'primary';
      }
      await sleep(Math.min(POLL_MS, remaining));
    }
  }

  /** A read on the replica failed (isReplicaFault) and goes to the primary instead. */
  readFailed(error: unknown): void {
    if (isGone(error)) {
      this.fail((error as Error).message);
    }
  }

  /** For /health and /metrics: how far behind the replica is. */
  async status(): Promise<ReplicaStatus> {
    const down = { reachable: false, lagBytes: null, lagMs: null, replayPaused: null };
    if (!this.replica) {
      return down;
    }
    const replica = this.replica;
    const measure = async (): Promise<ReplicaStatus> => {
      const [primary, standby] = await Promise.all([
        this.primary.pool.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`),
        replica.pool.query<{
          replayed: string | null;
          paused: boolean | null;
          age_ms: number | null;
        }>(
          `SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END AS replayed,
                  CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused,
                  (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS age_ms`,
        ),
      ]);
      const { replayed, paused, age_ms } = standby.rows[0];
      if (replayed === null) {
        this.fail('DATABASE_REPLICA_URL is not a standby (pg_is_in_recovery() is false)');
        return down;
      }
      this.saw(walPosition(replayed));
      const lag = walPosition(primary.rows[0].lsn) - walPosition(replayed);
      const lagBytes = lag > 0n ? Number(lag) : 0;
      return {
        reachable: true,
        lagBytes,
        lagMs: lagBytes === 0 ? 0 : age_ms === null ? null : Math.max(0, Math.round(age_ms)),
        replayPaused: paused,
      };
    };
    try {
      const status = await within(this.config.DB_CONNECT_TIMEOUT_MS, measure());
      return status === 'timeout' ? down : status;
    } catch (error) {
      if (isGone(error)) {
        this.fail((error as Error).message);
      }
      return down;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replica?.onApplicationShutdown();
  }

  /** The replica's replay position, one question at a time however many reads wait on it. */
  private askReplayed(replica: PrismaService): Promise<bigint | null> {
    this.asking ??= this.queryReplayed(replica).finally(() => {
      this.asking = undefined;
    });
    return this.asking;
  }

  private async queryReplayed(replica: PrismaService): Promise<bigint | null> {
    try {
      const { rows } = await replica.pool.query<{ lsn: string | null }>(
        // A primary that went through crash recovery keeps reporting where recovery ended.
        `SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END AS lsn`,
      );
      if (rows[0].lsn === null) {
        this.fail('DATABASE_REPLICA_URL is not a standby (pg_is_in_recovery() is false)');
        return null;
      }
      this.saw(walPosition(rows[0].lsn));
      return this.replayed;
    } catch (error) {
      this.fail((error as Error).message);
      return null;
    }
  }

  private saw(replayed: bigint): void {
    if (replayed > this.replayed) {
      this.replayed = replayed;
    }
    if (this.failing) {
      this.failing = false;
      this.logger.log('Replica answers again: heavy reads go to it once caught up');
    }
  }

  private fail(reason: string): void {
    this.skipUntil = performance.now() + RETRY_AFTER_MS;
    // A replica rebuilt while away may start behind what was seen of it.
    this.replayed = -1n;
    if (!this.failing) {
      this.failing = true;
      this.logger.warn(`Replica unusable (${reason}): reads go to the primary`);
    }
  }
}
