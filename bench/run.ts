// npm run bench [-- --quick] [-- --cpu-prof] [-- --queries-only]: builds the service, starts a
// private PostgreSQL, measures the baselines, the service's ingest and its queries (--queries-only:
// the queries alone), prints one table and writes bench/results/latest.json. Everything it
// starts, it stops, also on failure and Ctrl-C.
import path from 'node:path';
import { runAnalytics } from './analytics';
import { runBaselines } from './baselines';
import { buildService } from './build';
import { Cluster, startCluster, stopCluster } from './cluster';
import { runIngest } from './ingest';
import { stop, stopAll } from './processes';
import { profileFrom } from './profile';
import { runQueries } from './queries';
import { goals, machine, render, Results, write } from './report';
import { seed } from './seed';
import { runUnread } from './unread';
import { CPU_PROFILE_DIR, startService } from './service';

const started = Date.now();
const log = (line: string) =>
  console.log(`[bench ${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}`);

async function main(): Promise<Results> {
  const profile = profileFrom(process.argv.slice(2));
  const results: Omit<Results, 'goals'> = {
    profile,
    machine: machine(),
    postgres: {},
    startedAt: new Date(started).toISOString(),
    durationS: 0,
  };
  let cluster: Cluster | undefined;
  try {
    log('building the service');
    const main = await buildService();
    log(`starting PostgreSQL (${profile.name} profile)`);
    cluster = await startCluster(log);
    results.postgres = cluster.settings;

    // --queries-only: no baselines and no ingest, straight to the seeded query data set.
    const queriesOnly = process.argv.includes('--queries-only');
    if (!queriesOnly) {
      results.baselines = await runBaselines(cluster.sql, cluster.url, profile, log);
    }

    // --cpu-prof: the service writes a V8 CPU profile of the whole run when it exits.
    const cpuProfile = process.argv.includes('--cpu-prof');
    const service = await startService(main, cluster.url, cpuProfile);
    if (cpuProfile) {
      log(`service CPU profile goes to ${path.relative(process.cwd(), CPU_PROFILE_DIR)}`);
    }
    try {
      if (results.baselines) {
        results.ingest = await runIngest(cluster.sql, service, profile, results.baselines, log);
      }
      log(`seeding ${profile.users} users and ${profile.receipts} receipts`);
      results.seeded = await seed(cluster.sql, cluster.url, profile, log);
      results.queries = await runQueries(cluster.sql, service, results.seeded, profile, log);
      results.analytics = await runAnalytics(
        cluster.sql,
        cluster.url,
        service,
        results.seeded,
        profile,
        log,
      );
      // After the analytics: the unread measure adds unread messages to the query app.
      results.unread = await runUnread(cluster.sql, service, results.seeded, profile, log);
    } finally {
      await stop(service.child);
    }
  } catch (error) {
    results.error = error instanceof Error ? error.message : String(error);
  } finally {
    await stopAll();
    await cluster?.close().catch(() => undefined);
    stopCluster();
  }
  results.durationS = Math.round((Date.now() - started) / 1000);
  return { ...results, goals: goals(results) };
}

// Ctrl-C or a kill: stop the children and PostgreSQL before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything`);
    void stopAll()
      .finally(stopCluster)
      .finally(() => process.exit(130));
  });
}

void main().then((results) => {
  console.log('\n' + render(results));
  console.log(`\nwritten to ${path.relative(process.cwd(), write(results))}`);
  process.exit(results.error ? 1 : 0);
});
