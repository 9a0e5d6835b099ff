// npm run db:distribute
//
// On a Citus cluster (DATABASE_URL names the coordinator; the schema migrated, the workers
// added), distributes every app-keyed table by app_id, co-located, so that one app's rows of
// every table live on one shard and every derived statement runs on one node. Idempotent: run it
// again after migrations that add tables. On plain PostgreSQL it refuses and changes nothing.
import { Client } from 'pg';
import { distributeByApp, DistributionRefused } from '../src/db/citus';
import { redact } from './webhook-sink';

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error(
      'npm run db:distribute needs DATABASE_URL set to a Citus coordinator; the embedded ' +
        'PostgreSQL has no Citus (see README, "Scaling").',
    );
    return 1;
  }
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const result = await distributeByApp(db);
    for (const table of result.distributed) {
      console.log(`distributed by app_id: ${table}`);
    }
    if (result.already.length > 0) {
      console.log(`already distributed: ${result.already.join(', ')}`);
    }
    for (const { table, why } of result.local) {
      console.log(`kept on the coordinator: ${table} (${why})`);
    }
    console.log(`${redact(url)}: ${result.distributed.length} tables distributed now`);
    return 0;
  } catch (error) {
    if (error instanceof DistributionRefused) {
      console.error(`${redact(url)}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await db.end();
  }
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
