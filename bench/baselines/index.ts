import path from 'node:path';
import { Client } from 'pg';
import { load, LoadResult, openLoop, OpenLoopResult } from '../load';
import { Payloads } from '../payloads';
import { listening, startTs, stop } from '../processes';
import { Profile } from '../profile';
import { PgbenchResult, pgbenchAvailable, runPgbench } from './pgbench';

export interface Baselines {
  bare: LoadResult;
  /** The bare server's GET /users/:uid/presence (no database): the ceiling of a read route. */
  bareGet: LoadResult;
  /**
   * The same bare GET at the presence rate in an open loop: the p99 floor this machine gives any
   * Node server right now (on shared cores, scheduling alone can cost tens of ms).
   */
  bareGetOpen: OpenLoopResult;
  pgInsert: LoadResult;
  /** Group commit into a copy of webhook_events (same indexes and unique keys): the ack ceiling. */
  pgBatch: LoadResult;
  pgbench: PgbenchResult | { skipped: string };
  prismaCreate: LoadResult;
}

// Only a primary key, like pgbench's own tables: the cheapest honest version of the raw write.
const RAW_COLUMNS = `
  id bigserial PRIMARY KEY,
  app_id text NOT NULL,
  trigger text NOT NULL,
  webhook text,
  uid text,
  event_at timestamptz(3) NOT NULL,
  received_at timestamptz(3) NOT NULL DEFAULT now(),
  body_sha256 bytea NOT NULL,
  natural_key text,
  body jsonb NOT NULL`;

const HTTP_BASELINES = [
  { key: 'bare', file: 'bare.ts', port: 3391 },
  { key: 'pgInsert', file: 'pg-insert.ts', port: 3392 },
  { key: 'pgBatch', file: 'pg-batch.ts', port: 3394 },
  { key: 'prismaCreate', file: 'prisma-create.ts', port: 3393 },
] as const;

/** Each baseline in turn, as its own process, at the profile's baseline concurrency. */
export async function runBaselines(
  sql: Client,
  url: string,
  profile: Profile,
  log: (line: string) => void,
): Promise<Baselines> {
  await sql.query(`CREATE TABLE bench_pg_insert (${RAW_COLUMNS})`);
  await sql.query(`CREATE TABLE bench_pgbench (${RAW_COLUMNS})`);
  await sql.query('CREATE TABLE bench_pg_batch (LIKE webhook_events INCLUDING ALL)');
  const results: Partial<Baselines> = {};

  for (const baseline of HTTP_BASELINES) {
    if (baseline.key === 'prismaCreate') {
      results.pgbench = await pgbench(sql, url, profile, log);
    }
    await sql.query('CHECKPOINT');
    const child = startTs(`baseline-${baseline.key}`, path.join(__dirname, baseline.file), {
      PORT: String(baseline.port),
      DATABASE_URL: url,
    });
    try {
      await listening(child, baseline.port);
      const payloads = new Payloads(`${baseline.key}-${Date.now()}`);
      const post = (durationS: number) =>
        load({
          url: `http://127.0.0.1:${baseline.port}/webhooks/cometchat`,
          connections: profile.baselineConnections,
          durationS,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setup: (request) => ({ ...request, body: payloads.next().body }),
        });
      await post(profile.warmupS);
      const result = await post(profile.durationS);
      log(`baseline ${baseline.key}: ${result.rps} req/s, p99 ${result.p99Ms} ms`);
      results[baseline.key] = result;
      if (baseline.key === 'bare') {
        const get = (durationS: number) =>
          load({
            url: `http://127.0.0.1:${baseline.port}`,
            connections: profile.baselineConnections,
            durationS,
            setup: (request) => ({
              ...request,
              path: `/users/u${Math.floor(Math.random() * 1e6)}/presence`,
            }),
          });
        await get(profile.warmupS);
        results.bareGet = await get(profile.durationS);
        log(`baseline bare GET: ${results.bareGet.rps} req/s, p99 ${results.bareGet.p99Ms} ms`);
        results.bareGetOpen = await openLoop({
          url: `http://127.0.0.1:${baseline.port}`,
          ratePerS: profile.presenceRate,
          durationS: profile.presenceRateS,
          connections: profile.presenceConnections,
          next: () => ({ path: `/users/u${Math.floor(Math.random() * 1e6)}/presence` }),
        });
        log(
          `baseline bare GET at ${profile.presenceRate}/s offered: p50 ${results.bareGetOpen.p50Ms} ms, p99 ${results.bareGetOpen.p99Ms} ms`,
        );
      }
    } finally {
      await stop(child);
    }
  }
  // The prisma baseline wrote into webhook_events: leave the service an empty table.
  await sql.query('TRUNCATE webhook_events, bench_pg_insert, bench_pgbench, bench_pg_batch');
  return results as Baselines;
}

async function pgbench(
  sql: Client,
  url: string,
  profile: Profile,
  log: (line: string) => void,
): Promise<PgbenchResult | { skipped: string }> {
  if (!pgbenchAvailable()) {
    log('baseline pgbench: skipped, pgbench is not on PATH');
    return { skipped: 'pgbench is not on PATH' };
  }
  await sql.query('CHECKPOINT');
  // One body of the mix: slot 1 of an episode, a documented-shape after_message (~600 bytes).
  const payloads = new Payloads('pgbench');
  payloads.next();
  const sample = payloads.next().body;
  const result = await runPgbench({
    url,
    clients: profile.baselineConnections,
    durationS: profile.durationS,
    body: sample,
  });
  log(`baseline pgbench: ${result.tps} tps, p99 ${result.p99Ms} ms`);
  return result;
}
