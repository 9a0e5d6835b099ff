-- The SQL src/ingest/ingest-writer.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- findStored
SELECT id, app_id, encode(body_sha256, 'hex') AS h, natural_key FROM webhook_events w
WHERE (app_id, body_sha256) IN (SELECT app_id, decode(sha256_hex, 'hex')
                                   FROM unnest($1::text[], $2::text[]) AS x(app_id, sha256_hex))
   OR (app_id, natural_key) IN (SELECT app_id, natural_key
                                  FROM unnest($1::text[], $3::text[]) AS x(app_id, natural_key))
ORDER BY id;

-- insertEvents
WITH inserted AS (
  INSERT INTO webhook_events (app_id, trigger, webhook, uid, event_at, received_at, received_month,
                              body_sha256, natural_key, body)
  SELECT app_id, trigger, webhook, uid, to_timestamp(COALESCE(event_at_ms, received_at_ms) / 1000.0),
         to_timestamp(received_at_ms / 1000.0),
         date_trunc('month', to_timestamp(received_at_ms / 1000.0) AT TIME ZONE 'UTC')::date,
         decode(body_sha256, 'hex'), natural_key, body::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[], $9::text[]) AS x(app_id, trigger, webhook, uid, event_at_ms, received_at_ms, body_sha256, natural_key, body)
  ON CONFLICT DO NOTHING
  RETURNING id, app_id, received_at, body_sha256
), queued AS (
  INSERT INTO derivation_queue (app_id, event_id, received_at) SELECT app_id, id, received_at FROM inserted
)
SELECT id, app_id, encode(body_sha256, 'hex') AS h FROM inserted;
