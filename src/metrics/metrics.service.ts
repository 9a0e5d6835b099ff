import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ReadReplica } from '../db/read-replica.service';
/**
 * Prometheus metrics of one app instance, on a registry of its own (several apps in one
 * process, as in the tests, never share counters).
 */
@Injectable()
export class MetricsService implements OnApplicationShutdown {
  readonly registry = new Registry();

  readonly received = this.counter(
    'webhook_events_received_total',
    'Webhook events received (authenticated), by trigger',
  );
  readonly stored = this.counter(
    'webhook_events_stored_total',
    'Webhook events committed as new, by trigger',
  );
  readonly duplicated = this.counter(
    'webhook_events_duplicate_total',
    'Webhook events that were redeliveries of stored ones, by trigger',
  );
  readonly rejected = this.counter(
    'webhook_events_rejected_total',
    'Webhook events answered 400 and kept as rejected, by trigger',
  );

  readonly ingestLatency = new Histogram({
    name: 'ingest_latency_seconds',
    help: 'Time from receiving a webhook to its batch being committed',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'ingest_batch_size',
    help: 'Events per batch taken from the ingest queue (one transaction each)',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });

  readonly derived = new Counter({
    name: 'derived_events_total',
    help: 'Raw events whose derived state this instance wrote',
    registers: [this.registry],
  });
  readonly derivationBatch = new Histogram({
    name: 'derivation_batch_seconds',
    help: 'Time to derive one batch of raw events (one transaction each)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly routedReads = new Counter({
    name: 'routed_reads_total',
    help: 'Reads of the replica-preferring routes (analytics, session history, the event log), by the server that answered',
    labelNames: ['served_by'],
    registers: [this.registry],
  });

  private queueDepth: () => number = () => 0;
  private derivation: () => Promise<{ backlog: number; lagMs: number; failed: number }> = () =>
    Promise.resolve({ backlog: 0, lagMs: 0, failed: 0 });

  constructor(pool: Pool, replica: ReadReplica) {
    collectDefaultMetrics({ register: this.registry });
    const depth = () => this.queueDepth();
    new Gauge({
      name: 'ingest_queue_depth',
      help: 'Events waiting for a batch',
      registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL connections of the pool: total, idle, and requests waiting for one',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'db_pool_max',
      help: 'Most connections the pool opens (DB_POOL_SIZE)',
      registers: [this.registry],
    }).set(pool.options.max ?? 10);
    // After the pool's gauges: its query must not show up as a request waiting for a connection.
    const derivation = () => this.derivation();
    new Gauge({
      name: 'derivation_status',
      help: 'Derivation from the raw log: backlog (events committed, not yet derived), lag_seconds (age of the oldest of them), failed (events whose derivation failed)',
      labelNames: ['measure'],
      registers: [this.registry],
      async collect() {
        const status = await derivation();
        this.set({ measure: 'backlog' }, status.backlog);
        this.set({ measure: 'lag_seconds' }, status.lagMs / 1000);
        this.set({ measure: 'failed' }, status.failed);
      },
    });
    if (replica.configured) {
      new Gauge({
        name: 'db_replica_status',
        help: 'The read replica (DATABASE_REPLICA_URL): up (answers as a standby, 1/0), lag_bytes (WAL not yet replayed), lag_seconds (0 when caught up, else age of the latest replayed transaction), replay_paused (1/0)',
        labelNames: ['measure'],
        registers: [this.registry],
        async collect() {
          const status = await replica.status();
          this.set({ measure: 'up' }, status.reachable ? 1 : 0);
          this.set({ measure: 'lag_bytes' }, status.lagBytes ?? NaN);
          this.set({ measure: 'lag_seconds' }, status.lagMs === null ? NaN : status.lagMs / 1000);
          this.set({ measure: 'replay_paused' }, status.replayPaused ? 1 : 0);
        },
      });
    }
  }

  /** The ingest writer reports its queue here; read at each scrape. */
  trackQueueDepth(depth: () => number): void {
    this.queueDepth = depth;
  }

  /** The derivation runner reports its backlog and lag here; read at each scrape. */
  trackDerivation(status: () => Promise<{ backlog: number; lagMs: number; failed: number }>): void {
    this.derivation = status;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  onApplicationShutdown(): void {
    this.registry.clear();
  }

  private counter(name: string, help: string): Counter<'trigger'> {
    return new Counter({ name, help, labelNames: ['trigger'], registers: [this.registry] });
  }
}
