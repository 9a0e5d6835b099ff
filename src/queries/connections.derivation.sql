-- The SQL src/connections/connections.derivation.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- closeVanishedSessions
WITH batch_users AS (
  SELECT app_id, uid, to_timestamp(from_ms / 1000.0) AS from_at FROM unnest($1::text[], $2::text[], $3::float8[]) AS x(app_id, uid, from_ms)
), batch_sessions AS (
  SELECT DISTINCT app_id, uid, session_key FROM unnest($4::text[], $5::text[], $6::text[]) AS x(app_id, uid, session_key)
), candidates AS (
  SELECT s.app_id, s.uid, s.session_key, s.disconnected_at,
         GREATEST(s.connected_at,
                  (SELECT max(c.at) FROM connection_events c
                    WHERE c.app_id = $7 AND c.uid = s.uid AND c.session_key = s.session_key
                      AND c.action = 'connected')) AS opened_at
    FROM batch_users b
    JOIN sessions s ON s.app_id = $7 AND s.app_id = b.app_id AND s.uid = b.uid
   WHERE s.closed_by IS DISTINCT FROM 'event'
     AND (s.disconnected_at IS NULL OR s.disconnected_at > b.from_at
          OR (s.app_id, s.uid, s.session_key) IN (SELECT * FROM batch_sessions))
), inferred AS (
  SELECT cd.app_id, cd.uid, cd.session_key, cd.disconnected_at,
         (SELECT min(ce.at) FROM connection_events ce
           WHERE ce.app_id = $7 AND ce.uid = cd.uid AND ce.at > cd.opened_at
             AND (ce.status = 'offline' OR NOT (cd.session_key = ANY (ce.open_sessions)))) AS gone_at
    FROM candidates cd
)
UPDATE sessions s
   SET disconnected_at = i.gone_at,
       closed_by = CASE WHEN i.gone_at IS NULL THEN NULL ELSE 'inferred' END
  FROM inferred i
 WHERE s.app_id = $7 AND s.app_id = i.app_id AND s.uid = i.uid AND s.session_key = i.session_key
   AND i.disconnected_at IS DISTINCT FROM i.gone_at;

-- insertConnectionEvents
INSERT INTO connection_events (app_id, uid, action, at, status, session_key, device_id, platform,
                               user_agent, sdk_version, api_version, origin,
                               connected_at, open_sessions, last_active_at, event_id)
SELECT app_id, uid, action, to_timestamp(at_ms / 1000.0), status, session_key, device_id, platform,
       user_agent, sdk_version, api_version, origin, to_timestamp(connected_at_ms / 1000.0),
       CASE WHEN open_sessions_json IS NULL THEN NULL
            ELSE ARRAY(SELECT jsonb_array_elements_text(open_sessions_json::jsonb)) END,
       to_timestamp(last_active_at_ms / 1000.0), event_id
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::text[], $15::float8[], $16::bigint[]) AS x(app_id, uid, action, at_ms, status, session_key, device_id, platform, user_agent, sdk_version, api_version, origin, connected_at_ms, open_sessions_json, last_active_at_ms, event_id)
ON CONFLICT DO NOTHING;

-- lockUsers
SELECT pg_advisory_xact_lock(h)
 FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k) x
ORDER BY h;

-- upsertPresence
INSERT INTO presence (app_id, uid, status, status_at, last_seen_at, last_active_at)
SELECT app_id, uid, status, to_timestamp(status_at_ms / 1000.0), to_timestamp(status_at_ms / 1000.0),
       to_timestamp(last_active_at_ms / 1000.0)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[]) AS x(app_id, uid, status, status_at_ms, last_active_at_ms)
 ORDER BY app_id, uid
ON CONFLICT (app_id, uid) DO UPDATE SET
   status = CASE WHEN (EXCLUDED.status_at, EXCLUDED.status) > (presence.status_at, presence.status)
                 THEN EXCLUDED.status ELSE presence.status END,
   status_at = GREATEST(presence.status_at, EXCLUDED.status_at),
   last_seen_at = GREATEST(presence.last_seen_at, EXCLUDED.last_seen_at),
   last_active_at = GREATEST(presence.last_active_at, EXCLUDED.last_active_at);

-- upsertSessions
INSERT INTO sessions (app_id, uid, session_key, device_id, platform, user_agent, sdk_version,
                      api_version, origin, connected_at, disconnected_at, closed_by, opened_by)
SELECT app_id, uid, session_key, device_id, platform, user_agent, sdk_version, api_version, origin,
       to_timestamp(connected_at_ms / 1000.0), to_timestamp(disconnected_at_ms / 1000.0),
       CASE WHEN disconnected_at_ms IS NULL THEN NULL ELSE 'event' END, opened_by
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::float8[], $11::float8[], $12::text[]) AS x(app_id, uid, session_key, device_id, platform, user_agent, sdk_version, api_version, origin, connected_at_ms, disconnected_at_ms, opened_by)
 ORDER BY app_id, uid, session_key
ON CONFLICT (app_id, uid, session_key) DO UPDATE SET
   device_id = CASE WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN COALESCE(EXCLUDED.device_id, sessions.device_id)
               ELSE COALESCE(sessions.device_id, EXCLUDED.device_id) END,
   platform = CASE WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN COALESCE(EXCLUDED.platform, sessions.platform)
               ELSE COALESCE(sessions.platform, EXCLUDED.platform) END,
   user_agent = CASE WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN COALESCE(EXCLUDED.user_agent, sessions.user_agent)
               ELSE COALESCE(sessions.user_agent, EXCLUDED.user_agent) END,
   sdk_version = CASE WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN COALESCE(EXCLUDED.sdk_version, sessions.sdk_version)
               ELSE COALESCE(sessions.sdk_version, EXCLUDED.sdk_version) END,
   api_version = CASE WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN COALESCE(EXCLUDED.api_version, sessions.api_version)
               ELSE COALESCE(sessions.api_version, EXCLUDED.api_version) END,
   origin = CASE WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN COALESCE(EXCLUDED.origin, sessions.origin)
               ELSE COALESCE(sessions.origin, EXCLUDED.origin) END,
   connected_at = CASE
     WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) = (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN LEAST(sessions.connected_at, EXCLUDED.connected_at)
     WHEN (CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END) > (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END) THEN EXCLUDED.connected_at
     ELSE sessions.connected_at END,
   opened_by = CASE WHEN GREATEST((CASE WHEN EXCLUDED.connected_at IS NULL THEN 0 WHEN EXCLUDED.opened_by = 'inferred' THEN 1 ELSE 2 END), (CASE WHEN sessions.connected_at IS NULL THEN 0 WHEN sessions.opened_by = 'inferred' THEN 1 ELSE 2 END)) = 1 THEN 'inferred' ELSE 'event' END,
   disconnected_at = CASE
     WHEN EXCLUDED.closed_by IS NULL THEN sessions.disconnected_at
     WHEN sessions.closed_by = 'event' THEN LEAST(sessions.disconnected_at, EXCLUDED.disconnected_at)
     ELSE EXCLUDED.disconnected_at END,
   closed_by = COALESCE(EXCLUDED.closed_by, sessions.closed_by);
