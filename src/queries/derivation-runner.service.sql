-- The SQL src/ingest/derivation-runner.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- claim
WITH claimed AS (
  SELECT event_id FROM derivation_queue WHERE app_id = $1
   ORDER BY event_id LIMIT $2 FOR UPDATE SKIP LOCKED
)
DELETE FROM derivation_queue q USING claimed
 WHERE q.app_id = $1 AND q.event_id = claimed.event_id
RETURNING q.event_id::text AS event_id;

-- DerivationRunner.awaitDerived
SELECT EXISTS (SELECT 1 FROM derivation_queue
WHERE app_id = $1 AND event_id <= $2) AS pending;

-- DerivationRunner.awaitDerived
SELECT max(event_id)::text AS last FROM derivation_queue WHERE app_id = $1;

-- DerivationRunner.awaitDerived
SELECT max(event_id)::text AS last FROM derivation_queue;

-- load
SELECT id::text AS id, body::text AS body FROM webhook_events
WHERE app_id = $1 AND id = ANY ($2::bigint[]) ORDER BY id;

-- oldestApp
SELECT app_id FROM derivation_queue WHERE app_id <> ALL ($1::text[]) ORDER BY event_id LIMIT 1;
