// npm run rederive -- [--app APP_ID] [--since 2026-11-01T00:00:00Z]
//
// Recomputes derived state (messages, receipts, group aggregates, connection events, sessions,
// presence, the latency histogram) from the raw event log, e.g. after a fix to derivation. The
// service may keep running: its runners share the work, and queries wait for it (read-your-writes,
// bounded). Without --since, each app's derived rows are deleted and rebuilt from its whole log;
// with --since, the events from then on are applied again over what exists. After `npm run
// retention` has dropped part of the log, a full rebuild needs --force (it would lose that state).
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { ensurePrismaClient } from './webhook-sink';
import { parseQueryTime } from '../src/common/query-params';

const USAGE = `Usage: npm run rederive -- [--app APP_ID] [--since TIME]

  --app ID      only this app (default: every app in the log)
  --since TIME  only events whose own time is at or after TIME (ISO-8601 or Unix s/ms),
                re-applied over the existing state; without it the app's state is rebuilt
  --force       rebuild even though retention dropped part of the log (that state is lost)
Uses DATABASE_URL, or the embedded PostgreSQL (EMBEDDED_PG_PORT, EMBEDDED_PG_DIR).`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      app: { type: 'string' },
      since: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const since = values.since === undefined ? undefined : parseTime(values.since);
  ensurePrismaClient();
  const [{ NestFactory }, { AppModule }, cfg, db, { DerivationRunner }, { requeueForRederive }] =
    await Promise.all([
      import('@nestjs/core'),
      import('../src/app.module'),
      import('../src/config/app-config'),
      import('../src/db/database'),
      import('../src/ingest/derivation-runner.service'),
      import('../src/ingest/rederive'),
    ]);
  const config = cfg.loadConfig({
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DERIVE_ENABLED: 'false',
  });
  const database = db.openDatabase(config);
  try {
    if (config.RUN_MIGRATIONS) {
      await db.applyMigrations(database.url);
    }
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot(config, database.url),
      { logger: ['error', 'warn'] },
    );
    try {
      const started = performance.now();
      const runner = app.get(DerivationRunner);
      const queued = await requeueForRederive(app.get((await import('pg')).Pool), {
        appId: values.app,
        since,
        force: values.force,
      });
      const total = [...queued.values()].reduce((a, b) => a + b, 0);
      console.log(
        `${since === undefined ? 'Rebuilding' : 'Re-applying'} ${total} events of ${queued.size} app(s)`,
      );
      const bar = process.stderr.isTTY
        ? new SingleBar({
            format: 'rederive |{bar}| {percentage}% {value}/{total} events · {eta_formatted} left',
            stream: process.stderr,
            hideCursor: true,
          })
        : undefined;
      bar?.start(total, 0);
      let done = 0;
      for (const appId of queued.keys()) {
        await runner.drain(appId, (derived) => bar?.increment(derived));
        // Running service instances may have taken some of this app's batches.
        done += queued.get(appId)!;
        bar?.update(done);
      }
      bar?.stop();
      const status = await runner.status();
      console.log(
        `Derived ${total} events in ${((performance.now() - started) / 1000).toFixed(1)} s` +
          (status.failed > 0
            ? `; ${status.failed} events could not be derived (derivation_failures)`
            : ''),
      );
      return status.failed > 0 ? 1 : 0;
    } finally {
      await app.close();
    }
  } finally {
    database.close();
  }
}

/** --since, read as strictly as the API reads query times. */
function parseTime(value: string): number {
  const ms = parseQueryTime(value);
  if (ms === null) {
    throw new Error(`--since: not a time (ISO-8601 or Unix seconds/ms): ${value}`);
  }
  return ms;
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
