-- The SQL src/db/read-replica.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ReadReplica.choose
SELECT pg_current_wal_lsn()::text AS lsn;

-- ReadReplica.queryReplayed
SELECT pg_last_wal_replay_lsn()::text AS lsn;
