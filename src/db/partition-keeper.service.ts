import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { ensureCurrentPartitions } from './partitions';

const EVERY_MS = 6 * 3_600_000;
const RETRY_MS = 60_000;

/**
 * Keeps the raw tables' month partitions ready ahead of time: soon after start-up and every six
 * hours, the current month's and the next two. It never holds up the service: rows with no month
 * partition land in the default one, so a round that fails (no privilege, a lock it would wait
 * for) loses nothing; it is logged and tried again a minute later.
 */
@Injectable()
export class PartitionKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionKeeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly pool: Pool) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) {
      return;
    }
    this.timer = setTimeout(() => {
      this.running = this.round().then((ok) => this.schedule(ok ? EVERY_MS : RETRY_MS));
    }, delayMs);
    this.timer.unref();
  }

  private async round(): Promise<boolean> {
    let client;
    try {
      client = await this.pool.connect();
      // Creating a partition locks its parent: never queue behind a long lock.
      await client.query(`SET lock_timeout = '2s'`);
      const { created, skipped } = await ensureCurrentPartitions(client, Date.now());
      await client.query(`RESET lock_timeout`);
      if (created.length > 0) {
        this.logger.log(`created partitions ${created.join(', ')}`);
      }
      if (skipped.length > 0) {
        this.logger.warn(
          `partitions ${skipped.join(', ')} not created: their months already have rows in the default partition (kept there; retention still deletes them)`,
        );
      }
      return true;
    } catch (error) {
      this.logger.warn(
        `could not create the coming months' partitions (trying again in a minute): ${(error as Error).message}`,
      );
      return false;
    } finally {
      client?.release(true);
    }
  }
}
