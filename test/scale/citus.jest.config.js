// The Citus stage of `npm run test:scale` (test/scale/run.ts): the end-to-end specs below and
// test/scale/*.citus-spec.ts, against a Citus coordinator with two workers (DATABASE_URL and
// TEST_CITUS_WORKERS; test/setup/test-database.ts makes and distributes each run's database).
const base = require('../../package.json').jest;

// Every spec whose SQL or behaviour depends on the database: both webhook formats, dedupe, every
// query route, implied receipts, sessions, presence, latency (exact and histogram), rederive, and
// retention on the partitions, and the SQL record, which runs a day of simulated traffic through
// every statement of src/.
const E2E = [
  'webhooks',
  'published-payloads',
  'published-connections',
  'hostile-webhooks',
  'ingest-writer',
  'derivation',
  'presence',
  'receipts',
  'messages',
  'conversation-messages',
  'conversations',
  'latency',
  'latency-histogram',
  'concurrency',
  'active-users',
  'unread',
  'session-lengths',
  'export',
  'export-cli',
  'apps',
  'query-conventions',
  'replay',
  'retention',
  'sql-record',
];
// Left out, as they test nothing Citus changes or cannot run on it:
// - database-faults, database-outage: rename tables and functions under a running service, or
//   stop the embedded cluster; they test the service's fault handling, not the SQL;
// - port-in-use, health, migrations: the embedded cluster's start-up and Prisma's migration files;
// - read-replica: an unreachable replica and one that is no standby (test/scale/replica.scale-spec.ts
//   runs a real one);
// - dashboard, dashboard-pages, openapi, api-key, security, logging, metrics: the HTTP edge and
//   the browser, on the same queries as the specs above;
// - fuzz, simulator: property and load runs whose statements sql-record already runs, at a
//   cost this stage's time budget does not have.

module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test'],
  testRegex: undefined,
  testMatch: [
    ...E2E.map((name) => `<rootDir>/test/${name}.e2e-spec.ts`),
    '<rootDir>/test/scale/*.citus-spec.ts',
  ],
  // Room for the longer derivation waits (TEST_DERIVATION_WAIT_MS, set by test/scale/run.ts).
  testTimeout: 300_000,
};
