-- The SQL src/db/read-replica.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ReadReplica.choose
SELECT CASE WHEN current_setting('synchronous_commit') = 'off'
  THEN pg_current_wal_insert_lsn()
  ELSE pg_current_wal_lsn()
END::text AS lsn;

-- ReadReplica.queryReplayed
SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END AS lsn;
