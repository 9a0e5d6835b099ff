import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import { AppConfig } from '../config/app-config';
import {
  DatabaseUnavailableError,
  isCausedByValues,
  isConnectionError,
  isDatabaseFault,
} from '../db/database-errors';
import { preparing } from '../db/prepared';
import { unnestRows } from '../db/unnest';
import { MetricsService } from '../metrics/metrics.service';
import { CometChatEvent } from './cometchat-event';

export interface IncomingEvent {
  event: CometChatEvent;
  /** The body as received (UTF-8), stored as jsonb. */
  bodyText: string;
  bodySha256: string;
  receivedAt: number;
}

export interface IngestResult {
  eventId: string;
  duplicate: boolean;
}

/**
 * PostgreSQL refused the values of one event written on its own (see isCausedByValues); it is
 * answered 400 and kept as rejected. The message is PostgreSQL's: for the logs, never the caller.
 */
export class EventNotStorableError extends Error {}

interface Pending {
  item: IncomingEvent;
  resolve: (result: IngestResult) => void;
  reject: (error: Error) => void;
}

const YOUNG_TABLE_MARKS = [1_000, 4_000, 16_000, 64_000];
/** Every table a batch writes. */
export const INGEST_TABLES = [
  'webhook_events',
  'derivation_queue',
  'derivation_failures',
  'messages',
  'receipts',
  'group_receipts',
  'group_member_events',
  'group_memberships',
  'user_conversations',
  'connection_events',
  'sessions',
  'presence',
  'latency_histogram',
  'activity_days',
  'activity_counts',
  'activity_horizon',
];
const RETRYABLE = new Set(['40P01', '40001']); // deadlock, serialization failure

/**
 * Group commit: requests queue their events; each batch appends its raw events (and their
 * derivation-queue rows) in one statement, and every request is answered only after its batch
 * committed. Derived state follows in the background (DerivationRunner). The queue is bounded;
 * when full, callers get 503.
 */
@Injectable()
export class IngestWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(IngestWriter.name);
  private readonly queue: Pending[] = [];
  private running = 0;
  private closed = false;
  private idle: (() => void)[] = [];
  private written = 0;
  private readonly committed: (() => void)[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    metrics.trackQueueDepth(() => this.queue.length);
  }

  /** Called after each batch that stored new events (the local derivation runner listens). */
  onCommitted(listener: () => void): void {
    this.committed.push(listener);
  }

  get depth(): number {
    return this.queue.length;
  }

  submit(item: IncomingEvent): Promise<IngestResult> {
    if (this.closed) {
      return Promise.reject(new DatabaseUnavailableError('the service is shutting down'));
    }
    if (this.queue.length >= this.config.INGEST_QUEUE_LIMIT) {
      return Promise.reject(new DatabaseUnavailableError('the ingest queue is full'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once everything accepted so far is committed (or failed). */
  async drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) {
      return;
    }
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private pump(): void {
    while (this.running < this.config.INGEST_CONCURRENCY && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.config.INGEST_MAX_BATCH);
      this.metrics.batchSize.observe(batch.length);
      this.running++;
      void this.commit(batch).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) {
          this.idle.splice(0).forEach((f) => f());
        }
      });
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const results = await this.writeWithRetry(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]));
      this.analyzeWhileYoung(batch.length);
    } catch (error) {
      // Only PostgreSQL refusing the values can be one event's fault; any other database error
      // (disk full, a missing function, permissions, a timeout, read-only, unreachable) fails
      // every event alike: 503, retried by CometChat, never kept as rejected.
      if (isDatabaseFault(error)) {
        const failure = new DatabaseUnavailableError((error as Error).message, { cause: error });
        batch.forEach((p) => p.reject(failure));
        return;
      }
      if (batch.length === 1) {
        // A defect of ours (not a database error at all) stays itself: 500, logged with its stack.
        batch[0].reject(
          isCausedByValues(error)
            ? new EventNotStorableError((error as Error).message, { cause: error })
            : (error as Error),
        );
        return;
      }
      // One bad event must not fail the others: isolate it by writing each on its own.
      this.logger.warn(
        `Batch of ${batch.length} failed (${(error as Error).message}); retrying one by one`,
      );
      for (const pending of batch) {
        await this.commit([pending]);
      }
    }
  }

  /**
   * Autovacuum looks at tables once a minute, so a new database ingests its first minute with no
   * statistics, and the planner's guesses then make each batch up to 100x slower. While the
   * tables are young, analyze those that have doubled since their last statistics, each time
   * the events this process wrote cross 1k, 4k, 16k and 64k; autovacuum keeps up after that.
   */
  private analyzeWhileYoung(written: number): void {
    const before = this.written;
    this.written += written;
    const crossed = YOUNG_TABLE_MARKS.some((mark) => before < mark && this.written >= mark);
    if (!crossed) {
      return;
    }
    void this.pool
      .query<{ relname: string }>(
        `SELECT relname FROM pg_stat_user_tables
          WHERE relname = ANY ($1) AND n_mod_since_analyze > GREATEST(n_live_tup / 2, 50)`,
        [INGEST_TABLES],
      )
      .then(async ({ rows }) => {
        if (rows.length > 0) {
          await this.pool.query(`ANALYZE ${rows.map((r) => `"${r.relname}"`).join(', ')}`);
        }
      })
      .catch((error: Error) =>
        this.logger.warn(`ANALYZE of young tables failed: ${error.message}`),
      );
  }

  private async writeWithRetry(items: IncomingEvent[]): Promise<IngestResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(items);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!RETRYABLE.has(code ?? '') || attempt >= 5) {
          throw error;
        }
      }
    }
  }

  /**
   * The ack path: one statement appends the raw rows and their derivation-queue rows (it commits
   * on its own: nothing derived waits on it); a second finds the stored twins of duplicates.
   */
  private async write(items: IncomingEvent[]): Promise<IngestResult[]> {
    const client = preparing(await this.pool.connect());
    let broken: Error | undefined;
    try {
      const results = await insertEvents(client, items);
      if (results.some((r) => !r.duplicate)) {
        this.committed.forEach((listener) => listener());
      }
      return results;
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      // A connection that failed mid-statement is dropped rather than reused.
      client.release(broken !== undefined && isConnectionError(broken) ? broken : undefined);
    }
  }
}

/**
 * Inserts the raw rows of new events; an event whose bytes or natural key is already stored (or
 * earlier in this batch) is a duplicate and gets the stored event's id.
 */
async function insertEvents(tx: PoolClient, items: IncomingEvent[]): Promise<IngestResult[]> {
  const results: (IngestResult | undefined)[] = items.map(() => undefined);
  const firstByKey = new Map<string, number>();
  const toInsert: number[] = [];
  const dedupeKeys = (it: IncomingEvent) => [
    `h\u0000${it.event.appId}\u0000${it.bodySha256}`,
    ...(it.event.naturalKey === null
      ? []
      : [`k\u0000${it.event.appId}\u0000${it.event.naturalKey}`]),
  ];
  const sameAs: number[] = [];
  items.forEach((it, i) => {
    const earlier = dedupeKeys(it)
      .map((k) => firstByKey.get(k))
      .find((j) => j !== undefined);
    if (earlier !== undefined) {
      sameAs[i] = earlier;
      return;
    }
    dedupeKeys(it).forEach((k) => firstByKey.set(k, i));
    toInsert.push(i);
  });

  // The unique keys hold within a month's partition. In a month's first hour, a redelivery may
  // find its original in the month before: look for it first (CometChat retries within ~40 s).
  const nearMonthStart = toInsert.filter((i) => isNearMonthStart(items[i].receivedAt));
  if (nearMonthStart.length > 0) {
    const stored = await findStored(
      tx,
      nearMonthStart.map((i) => items[i]),
    );
    nearMonthStart.forEach((i, n) => {
      if (stored[n] !== undefined) {
        results[i] = { eventId: stored[n], duplicate: true };
        toInsert.splice(toInsert.indexOf(i), 1);
      }
    });
  }

  const raw = unnestRows(
    toInsert.map((i) => items[i]),
    {
      app_id: ['text', (r) => r.event.appId],
      trigger: ['text', (r) => r.event.trigger],
      webhook: ['text', (r) => r.event.webhook],
      uid: ['text', (r) => r.event.uid],
      event_at_ms: ['float8', (r) => r.event.eventAt],
      received_at_ms: ['float8', (r) => r.receivedAt],
      body_sha256: ['text', (r) => r.bodySha256],
      natural_key: ['text', (r) => r.event.naturalKey],
      body: ['text', (r) => r.bodyText],
    },
    'x',
  );
  const inserted = await tx.query<{ id: string; app_id: string; h: string }>(
    `WITH inserted AS (
       INSERT INTO webhook_events (app_id, trigger, webhook, uid, event_at, received_at, received_month,
                                   body_sha256, natural_key, body)
       SELECT app_id, trigger, webhook, uid, to_timestamp(COALESCE(event_at_ms, received_at_ms) / 1000.0),
              to_timestamp(received_at_ms / 1000.0),
              date_trunc('month', to_timestamp(received_at_ms / 1000.0) AT TIME ZONE 'UTC')::date,
              decode(body_sha256, 'hex'), natural_key, body::jsonb
         FROM ${raw.sql}
       ON CONFLICT DO NOTHING
       RETURNING id, app_id, received_at, body_sha256
     ), queued AS (
       INSERT INTO derivation_queue (app_id, event_id, received_at) SELECT app_id, id, received_at FROM inserted
     )
     SELECT id, app_id, encode(body_sha256, 'hex') AS h FROM inserted`,
    raw.values,
  );
  const newIds = new Map(inserted.rows.map((r) => [`${r.app_id}\u0000${r.h}`, r.id]));
  const missing: number[] = [];
  for (const i of toInsert) {
    const eventId = newIds.get(`${items[i].event.appId}\u0000${items[i].bodySha256}`);
    if (eventId === undefined) {
      missing.push(i);
    } else {
      results[i] = { eventId, duplicate: false };
    }
  }
  if (missing.length > 0) {
    const stored = await findStored(
      tx,
      missing.map((i) => items[i]),
    );
    missing.forEach((i, n) => {
      if (stored[n] === undefined) {
        throw new Error('a conflicting event vanished before it could be read');
      }
      results[i] = { eventId: stored[n], duplicate: true };
    });
  }
  sameAs.forEach((j, i) => (results[i] = { eventId: results[j]!.eventId, duplicate: true }));
  return results as IngestResult[];
}

const MONTH_START_WINDOW_MS = 3_600_000;

function isNearMonthStart(receivedAt: number): boolean {
  const d = new Date(receivedAt);
  return receivedAt - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) < MONTH_START_WINDOW_MS;
}

/** The ids of stored events with the same bytes or natural key, in any month (undefined: none). */
async function findStored(tx: PoolClient, items: IncomingEvent[]): Promise<(string | undefined)[]> {
  const found = await tx.query<{
    id: string;
    app_id: string;
    h: string;
    natural_key: string | null;
  }>(
    `SELECT id, app_id, encode(body_sha256, 'hex') AS h, natural_key FROM webhook_events w
      WHERE (app_id, body_sha256) IN (SELECT app_id, decode(sha256_hex, 'hex')
                                         FROM unnest($1::text[], $2::text[]) AS x(app_id, sha256_hex))
         OR (app_id, natural_key) IN (SELECT app_id, natural_key
                                        FROM unnest($1::text[], $3::text[]) AS x(app_id, natural_key))
      ORDER BY id`,
    [
      items.map((it) => it.event.appId),
      items.map((it) => it.bodySha256),
      items.map((it) => it.event.naturalKey),
    ],
  );
  return items.map(
    (it) =>
      found.rows.find(
        (r) =>
          r.app_id === it.event.appId &&
          (r.h === it.bodySha256 ||
            (it.event.naturalKey !== null && r.natural_key === it.event.naturalKey)),
      )?.id,
  );
}
