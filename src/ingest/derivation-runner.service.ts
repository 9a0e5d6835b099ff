import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import { AppConfig } from '../config/app-config';
import { isCausedByValues, isConnectionError } from '../db/database-errors';
import { preparing } from '../db/prepared';
import { MetricsService } from '../metrics/metrics.service';
import { readCometChatEvent } from './cometchat-event';
import { parseJson } from './payload-reader';
import { DERIVATION_ORDER, DerivationStep } from './derivation-step';
import { IngestWriter } from './ingest-writer.service';
import { StoredEvent } from './stored-event';

const RETRYABLE = new Set(['40P01', '40001']);
/** Apps a batch looks at before it concludes other instances hold all the work. */
const APPS_TRIED = 4;

export interface DerivationStatus {
  /** Events committed and not yet derived. */
  backlog: number;
  /** How long the oldest of them has waited, in ms (0 with no backlog). */
  lagMs: number;
  /** Events whose derivation failed on their own content. */
  failed: number;
}

export type WaitOutcome = 'fresh' | 'waited' | 'timeout';

/**
 * Derives state from the raw event log in the background. Each batch claims queue rows of one
 * app with FOR UPDATE SKIP LOCKED, writes every derived table set-wise, and deletes the claimed
 * rows in the same transaction: a crash rolls the claim back, and another instance never takes
 * a row this one holds, so every event is derived exactly once. Unlike a "below id X" watermark,
 * a queue row cannot be skipped by an id that commits late.
 */
@Injectable()
export class DerivationRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DerivationRunner.name);
  private loop?: Promise<void>;
  private stopped = false;
  private kicked = false;
  private wake?: () => void;
  private readonly batchListeners = new Set<() => void>();
  private readonly registered = new Map<string, DerivationStep>();
  private steps: DerivationStep[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    writer: IngestWriter,
  ) {
    writer.onCommitted(() => this.kick());
    metrics.trackDerivation(() => this.status());
  }

  /** Each feature module's step registers here; they run in DERIVATION_ORDER. */
  register(step: DerivationStep): void {
    if (this.registered.has(step.name)) {
      throw new Error(`derivation step ${step.name} registered twice`);
    }
    this.registered.set(step.name, step);
    this.steps = DERIVATION_ORDER.flatMap((name) => this.registered.get(name) ?? []);
  }

  onApplicationBootstrap(): void {
    const missing = DERIVATION_ORDER.filter((name) => !this.registered.has(name));
    if (missing.length > 0) {
      throw new Error(`derivation steps not registered: ${missing.join(', ')}`);
    }
    if (this.config.DERIVE_ENABLED) {
      this.loop = this.run();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
  }

  /** Asks the loop to look for work now instead of at its next poll. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Read-your-writes: resolves once every event committed before the call is derived (for one
   * app, or all), or after `budgetMs`. One indexed look-up when there is no backlog.
   */
  async awaitDerived(appId: string | undefined, budgetMs: number): Promise<WaitOutcome> {
    // Two statements, not `$1 IS NULL OR app_id = $1`: with one app, Citus runs it on that
    // app's shard alone.
    const { rows } = await this.pool.query<{ last: string | null }>(
      appId === undefined
        ? {
            name: 'derivation_pending_max',
            text: `SELECT max(event_id)::text AS last FROM derivation_queue`,
          }
        : {
            name: 'derivation_pending_max_app',
            text: `SELECT max(event_id)::text AS last FROM derivation_queue WHERE app_id = $1`,
            values: [appId],
          },
    );
    const last = rows[0].last;
    if (last === null) {
      return 'fresh';
    }
    const deadline = performance.now() + budgetMs;
    this.kick();
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        return 'timeout';
      }
      await this.nextBatchOr(Math.min(remaining, 25));
      const pending = await this.pool.query<{ pending: boolean }>(
        appId === undefined
          ? {
              name: 'derivation_pending_upto',
              text: `SELECT EXISTS (SELECT 1 FROM derivation_queue WHERE event_id <= $1) AS pending`,
              values: [last],
            }
          : {
              name: 'derivation_pending_upto_app',
              text: `SELECT EXISTS (SELECT 1 FROM derivation_queue
                                     WHERE app_id = $1 AND event_id <= $2) AS pending`,
              values: [appId, last],
            },
      );
      if (!pending.rows[0].pending) {
        return 'waited';
      }
    }
  }

  async status(): Promise<DerivationStatus> {
    const { rows } = await this.pool.query<{ backlog: string; lag_ms: number; failed: string }>(
      `SELECT (SELECT count(*) FROM derivation_queue) AS backlog,
              COALESCE((SELECT extract(epoch FROM now() - min(received_at)) * 1000 FROM derivation_queue), 0)::float8 AS lag_ms,
              (SELECT count(*) FROM derivation_failures) AS failed`,
    );
    return {
      backlog: Number(rows[0].backlog),
      lagMs: Math.max(0, Math.round(rows[0].lag_ms)),
      failed: Number(rows[0].failed),
    };
  }

  /** Derives until nothing is pending (for one app, or all); returns how many events it derived. */
  async drain(appId?: string, onBatch?: (derived: number) => void): Promise<number> {
    let total = 0;
    for (;;) {
      const derived = await this.deriveBatch(appId);
      if (derived === 0) {
        return total;
      }
      total += derived;
      onBatch?.(derived);
    }
  }

  /**
   * Claims up to DERIVE_BATCH pending events of one app (the one with the oldest pending event,
   * or `appId`) and derives them in one transaction; returns how many it took.
   */
  async deriveBatch(appId?: string): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deriveOnce(appId);
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (!RETRYABLE.has(code) || attempt >= 5) {
          throw error;
        }
      }
    }
  }

  /**
   * One batch of `appId`, or of the app with the oldest queued event. That app is looked up
   * before the batch's transaction and without a lock (a statement over every app cannot lock
   * rows on Citus): when its claim finds every row held by other instances, the next app is tried.
   */
  private async deriveOnce(appId?: string): Promise<number> {
    if (appId !== undefined) {
      return this.deriveApp(appId);
    }
    const tried: string[] = [];
    while (tried.length < APPS_TRIED) {
      const app = await oldestApp(this.pool, tried);
      if (app === null) {
        return 0;
      }
      const derived = await this.deriveApp(app);
      if (derived > 0) {
        return derived;
      }
      tried.push(app);
    }
    return 0;
  }

  private async deriveApp(app: string): Promise<number> {
    const started = performance.now();
    const client = preparing(await this.pool.connect());
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const claimed = await claim(client, app, this.config.DERIVE_BATCH);
      if (claimed.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const { events, unreadable } = await load(client, app, claimed);
      await recordFailures(client, app, unreadable);
      await this.applySteps(client, app, events);
      await client.query('COMMIT');
      this.metrics.derived.inc(claimed.length);
      this.metrics.derivationBatch.observe((performance.now() - started) / 1000);
      return claimed.length;
    } catch (error) {
      broken = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release(broken !== undefined && isConnectionError(broken) ? broken : undefined);
      this.batchListeners.forEach((listener) => listener());
    }
  }

  /**
   * All steps over the whole batch; if the database refuses it for the content of some event,
   * each event again on its own, and the ones refused alone are recorded as failed (kept raw).
   */
  private async applySteps(tx: PoolClient, app: string, events: StoredEvent[]): Promise<void> {
    await tx.query('SAVEPOINT batch');
    try {
      for (const step of this.steps) {
        await step.derive(tx, events);
      }
      return;
    } catch (error) {
      if (!isEventFault(error)) {
        throw error;
      }
      await tx.query('ROLLBACK TO SAVEPOINT batch');
      if (events.length > 1) {
        this.logger.warn(
          `Derivation of ${events.length} events of app ${app} failed (${(error as Error).message}); one by one`,
        );
      }
    }
    for (const event of events) {
      await tx.query('SAVEPOINT one');
      try {
        for (const step of this.steps) {
          await step.derive(tx, [event]);
        }
        await tx.query('RELEASE SAVEPOINT one');
      } catch (error) {
        if (!isEventFault(error)) {
          throw error;
        }
        await tx.query('ROLLBACK TO SAVEPOINT one');
        this.logger.error(
          `Event ${event.eventId} of app ${app} cannot be derived: ${(error as Error).message}`,
        );
        await recordFailures(tx, app, [
          { eventId: event.eventId, error: (error as Error).message },
        ]);
      }
    }
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (!this.stopped) {
      let derived = 0;
      try {
        derived = await this.deriveBatch();
        backoff = 0;
      } catch (error) {
        backoff = Math.min(Math.max(backoff * 2, 100), 5000);
        this.logger.warn(`Derivation paused ${backoff} ms: ${(error as Error).message}`);
      }
      if (this.stopped) {
        break;
      }
      if (derived === 0 || backoff > 0) {
        await this.idle(backoff || this.config.DERIVE_POLL_MS);
      }
    }
  }

  /** Sleeps until kicked or `ms` passed; a kick that came while busy ends the sleep at once. */
  private idle(ms: number): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        this.kicked = false;
        done();
      };
    });
  }

  private nextBatchOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.batchListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.batchListeners.add(done);
    });
  }
}

/** The event's own values, not the database's state: it would fail the same way every time. */
const isEventFault = isCausedByValues;

async function oldestApp(pool: Pool, skip: string[]): Promise<string | null> {
  const { rows } = await pool.query<{ app_id: string }>(
    `SELECT app_id FROM derivation_queue WHERE app_id <> ALL ($1::text[]) ORDER BY event_id LIMIT 1`,
    [skip],
  );
  return rows[0]?.app_id ?? null;
}

async function claim(tx: PoolClient, app: string, limit: number): Promise<string[]> {
  const { rows } = await tx.query<{ event_id: string }>(
    `WITH claimed AS (
       SELECT event_id FROM derivation_queue WHERE app_id = $1
        ORDER BY event_id LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     DELETE FROM derivation_queue q USING claimed
      WHERE q.app_id = $1 AND q.event_id = claimed.event_id
     RETURNING q.event_id::text AS event_id`,
    [app, limit],
  );
  return rows.map((r) => r.event_id);
}

/** The claimed raw events, read again from the log as the webhook route read them. */
async function load(
  tx: PoolClient,
  app: string,
  eventIds: string[],
): Promise<{ events: StoredEvent[]; unreadable: { eventId: string; error: string }[] }> {
  const { rows } = await tx.query<{ id: string; body: string }>(
    `SELECT id::text AS id, body::text AS body FROM webhook_events
      WHERE app_id = $1 AND id = ANY ($2::bigint[]) ORDER BY id`,
    [app, eventIds],
  );
  const events: StoredEvent[] = [];
  const unreadable: { eventId: string; error: string }[] = [];
  for (const row of rows) {
    try {
      events.push({ ...readCometChatEvent(parseJson(row.body)), eventId: row.id });
    } catch (error) {
      unreadable.push({ eventId: row.id, error: (error as Error).message });
    }
  }
  return { events, unreadable };
}

async function recordFailures(
  tx: PoolClient,
  app: string,
  failures: { eventId: string; error: string }[],
): Promise<void> {
  if (failures.length === 0) {
    return;
  }
  await tx.query(
    `INSERT INTO derivation_failures (app_id, event_id, error)
     SELECT $1, event_id, error FROM unnest($2::bigint[], $3::text[]) AS f(event_id, error)
     ON CONFLICT (app_id, event_id) DO UPDATE SET error = EXCLUDED.error, failed_at = EXCLUDED.failed_at`,
    [app, failures.map((f) => f.eventId), failures.map((f) => f.error)],
  );
}
