// npm run retention -- --older-than 90d [--dry-run]
//
// Drops the raw log (webhook_events, connection_events) older than the given age: each month
// partition wholly before the cutoff, and the older rows of the default partitions. Derived state
// (messages, receipts, group aggregates, sessions, presence, the latency histogram) stays whole.
// Redeliveries are still recognised within a month (CometChat retries within about 40 s), and
// derived rows are idempotent forever: a late redelivery of a dropped event changes nothing.
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { parseQueryTime } from '../src/common/query-params';
import { loadConfig } from '../src/config/app-config';
import { applyMigrations, openDatabase } from '../src/db/database';
import { RetentionRefusedError, applyRetention, parseAge } from '../src/db/retention';

const USAGE = `Usage: npm run retention -- --older-than AGE [--dry-run]

  --older-than AGE  drop raw events older than AGE: days (90d) or hours (36h)
  --dry-run         only show what would be dropped
  --now TIME        the current time (ISO-8601 or Unix s/ms), for trying a schedule out
Uses DATABASE_URL, or the embedded PostgreSQL (EMBEDDED_PG_PORT, EMBEDDED_PG_DIR).`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'older-than': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      now: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const age = values['older-than'] === undefined ? null : parseAge(values['older-than']);
  if (age === null) {
    console.error(`--older-than: an age such as 90d or 36h is required\n\n${USAGE}`);
    return 2;
  }
  const now = values.now === undefined ? Date.now() : parseQueryTime(values.now);
  if (now === null) {
    console.error(`--now: not a time (ISO-8601 or Unix s/ms): ${values.now}`);
    return 2;
  }
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const database = openDatabase(config);
  const pool = new Pool({ connectionString: database.url, max: 2 });
  try {
    if (config.RUN_MIGRATIONS) {
      await applyMigrations(database.url);
    }
    const report = await applyRetention(pool, { olderThanMs: age, now, dryRun: values['dry-run'] });
    const verb = values['dry-run'] ? 'Would drop' : 'Dropped';
    console.log(`Cutoff ${report.cutoff.toISOString()}`);
    for (const p of report.dropped) {
      console.log(`${verb} ${p.name} (about ${p.rows} rows)`);
    }
    for (const [table, n] of Object.entries(report.deletedFromDefault)) {
      console.log(
        `${values['dry-run'] ? 'Would delete' : 'Deleted'} ${n} rows of ${table}_default`,
      );
    }
    if (report.dropped.length === 0) {
      console.log('No month partition is wholly older than the cutoff');
    }
    return 0;
  } catch (error) {
    if (error instanceof RetentionRefusedError) {
      console.error(`Refused: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await pool.end();
    database.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
