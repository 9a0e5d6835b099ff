/**
 * `npm run test:scale`: the scale-out path, tested for real on this machine.
 * 1. the software it needs (PgBouncer; Citus) is installed where missing (as root, from Debian's
 *    packages and ../shared/vendor/citus/; see test/scale/software.ts);
 * 2. Citus: a coordinator and two workers on Debian's PostgreSQL 15 (test/scale/citus-cluster.ts),
 *    the end-to-end specs listed in test/scale/citus.jest.config.js and test/scale/*.citus-spec.ts
 *    against the coordinator, each run's database migrated and distributed by app_id; the
 *    cluster is stopped afterwards, on failure too;
 * 3. the specs in test/scale/*.scale-spec.ts (replica, PgBouncer, retention on a real cluster).
 * `npm run test:scale -- unread citus`: the Citus stage runs only the specs whose paths match
 * those patterns, and step 3 is skipped (for working on one spec).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { nodeUrl, startCitusCluster, stopCitusCluster } from './citus-cluster';
import { ensureCitus, ensurePgBouncer } from './software';

const ROOT = path.resolve(__dirname, '..', '..');

/** Runs Jest with a config; its exit status (0 when every test passed). */
function jest(config: string, env: NodeJS.ProcessEnv = process.env, extra: string[] = []): number {
  const result = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), '--runInBand', '--config', config, ...extra],
    { cwd: ROOT, stdio: 'inherit', env },
  );
  return result.status ?? 1;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function citusStage(patterns: string[]): Promise<number> {
  let started = performance.now();
  ensureCitus();
  const cluster = await startCitusCluster(2);
  console.log(
    `Citus cluster up in ${seconds(started)}: coordinator :${cluster.coordinator.port}, ` +
      `workers ${cluster.workers.map((worker) => `:${worker.port}`).join(', ')}`,
  );
  const stop = () => stopCitusCluster(cluster);
  // Interrupted, Jest stops too; the cluster must not outlive this process.
  const interrupted = () => {
    stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    started = performance.now();
    const status = jest(
      'test/scale/citus.jest.config.js',
      {
        ...process.env,
        DATABASE_URL: nodeUrl(cluster.coordinator),
        TEST_CITUS_WORKERS: cluster.workers.map((worker) => nodeUrl(worker)).join(','),
        // Derivation through a coordinator and two workers on two shared cores takes several
        // times as long: tests reading derived tables may wait longer for it to catch up.
        TEST_DERIVATION_WAIT_MS: '180000',
      },
      patterns,
    );
    console.log(`Citus stage: the suite took ${seconds(started)} (exit ${status})`);
    return status;
  } finally {
    stop();
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  ensurePgBouncer();
  const patterns = process.argv.slice(2);
  const citus = await citusStage(patterns);
  if (patterns.length > 0) {
    console.log(
      `only the Citus specs matching ${patterns.join(' ')}: the other scale specs skipped`,
    );
    return citus;
  }
  const others = jest('test/scale/jest.config.js', process.env, ['--passWithNoTests']);
  console.log(`npm run test:scale took ${seconds(started)}`);
  return citus || others;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
