import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { ensureCurrentPartitions } from './partitions';

const EVERY_MS = 6 * 3_600_000;

/**
 * Keeps the raw tables' month partitions ready ahead of time: at start-up and every six hours,
 * the current month's and the next two. Rows with no month partition land in the default one,
 * so a failure here loses nothing: it is logged, and tried again at the next round.
 */
@Injectable()
export class PartitionKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionKeeper.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly pool: Pool) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.round();
    this.timer = setInterval(() => void this.round(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async round(): Promise<void> {
    try {
      const { created, skipped } = await ensureCurrentPartitions(this.pool, Date.now());
      if (created.length > 0) {
        this.logger.log(`created partitions ${created.join(', ')}`);
      }
      if (skipped.length > 0) {
        this.logger.warn(
          `partitions ${skipped.join(', ')} not created: their months already have rows in the default partition (kept there; retention still deletes them)`,
        );
      }
    } catch (error) {
      this.logger.warn(
        `could not create the coming months' partitions: ${(error as Error).message}`,
      );
    }
  }
}
