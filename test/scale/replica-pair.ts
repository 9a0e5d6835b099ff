import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import * as embedded from '../../src/db/embedded-postgres';
import { createTestDatabase, ROOT } from '../setup/test-database';

export interface ReplicaPair {
  /** The migrated database on the primary, and the same database on the replica. */
  primaryUrl: string;
  replicaUrl: string;
  /** Runs SQL on the replica's server (pg_wal_replay_pause() and the like). */
  onReplica<T>(sql: string): Promise<T[]>;
  stopReplica(): void;
  startReplica(): Promise<void>;
  /** Stops both servers and removes their data. */
  close(): void;
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(sql)).rows as T[];
  } finally {
    await db.end();
  }
}

/**
 * A PostgreSQL 18 primary and a streaming replica of it on this machine, from the embedded
 * binaries (they have no pg_basebackup): the primary is initialised and migrated, stopped, and
 * its data directory copied cold; the copy gets standby.signal and primary_conninfo (with a
 * replication slot, so the primary keeps the WAL the replica has not fetched), and both start
 * on free ports. initdb's pg_hba.conf already allows replication connections on loopback.
 */
export async function startReplicaPair(): Promise<ReplicaPair> {
  const base = path.join(ROOT, '.data', `scale-replica-${process.pid}`);
  rmSync(base, { recursive: true, force: true });
  const primary = { dataDir: path.join(base, 'primary'), port: 0, database: 'postgres' };
  const replica = { dataDir: path.join(base, 'replica'), port: 0, database: 'postgres' };

  const started = embedded.ensure(primary);
  primary.port = started.port;
  const { url: primaryUrl } = await createTestDatabase({ url: started.url, startedHere: true });
  await query(started.url, `SELECT pg_create_physical_replication_slot('replica')`);
  embedded.stop(primary);

  // cp -a keeps the owner (the 'postgres' user when running as root) and the 0700 mode.
  execFileSync('cp', ['-a', primary.dataDir, replica.dataDir]);
  const owner = statSync(replica.dataDir);
  const signal = path.join(replica.dataDir, 'standby.signal');
  writeFileSync(signal, '');
  chownSync(signal, owner.uid, owner.gid);
  appendFileSync(
    path.join(replica.dataDir, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres password=postgres application_name=replica'\n` +
      `primary_slot_name = 'replica'\n`,
  );

  embedded.ensure(primary);
  const startReplica = async () => {
    replica.port = embedded.ensure(replica).port;
    // Streaming, not just started: a read on it may then be compared with the primary's.
    const deadline = Date.now() + 30_000;
    while (
      (
        await query<{ n: number }>(
          started.url,
          `SELECT count(*)::int AS n FROM pg_stat_replication
            WHERE application_name = 'replica' AND state = 'streaming'`,
        )
      )[0].n === 0
    ) {
      if (Date.now() > deadline) {
        throw new Error('the replica did not start streaming within 30 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await startReplica();
  const replicaUrl = new URL(primaryUrl);
  replicaUrl.port = String(replica.port);

  return {
    primaryUrl,
    replicaUrl: replicaUrl.toString(),
    onReplica: (sql) => query(replicaUrl.toString(), sql),
    stopReplica: () => {
      embedded.stop(replica);
    },
    startReplica,
    close: () => {
      embedded.stop(replica, 'immediate');
      embedded.stop(primary, 'immediate');
      rmSync(base, { recursive: true, force: true });
    },
  };
}
