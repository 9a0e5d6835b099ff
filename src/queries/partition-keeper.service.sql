-- The SQL src/db/partition-keeper.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- PartitionKeeper.round
RESET lock_timeout;

-- PartitionKeeper.round
SET lock_timeout = '2s';
