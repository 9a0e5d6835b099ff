-- The SQL src/db/partitions.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- listPartitions
SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
 FROM pg_inherits i
 JOIN pg_class c ON c.oid = i.inhrelid
 JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname = ANY($1::text[]) AND p.relnamespace = current_schema()::regnamespace;
