-- The SQL src/connections/presence.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- PresenceService.online

    SELECT p.app_id, p.uid, LEAST((
SELECT min(ce.at) FROM connection_events ce
 WHERE ce.app_id = $1 AND ce.uid = p.uid
   AND (d.at IS NULL OR (ce.at >= d.at AND (ce.at, ce.status) > (d.at, d.status)))),
CASE WHEN p.status = 'online' THEN (
  SELECT min(s.connected_at) FROM sessions s
   WHERE s.app_id = $2 AND s.uid = p.uid AND s.opened_by = 'inferred'
     AND s.disconnected_at IS NULL AND (d.at IS NULL OR s.connected_at > d.at)) END) AS since
      FROM presence p LEFT JOIN LATERAL (
SELECT o.at, o.status FROM connection_events o
 WHERE o.app_id = $3 AND o.uid = p.uid AND o.status <> p.status
 ORDER BY o.at DESC LIMIT 1) d ON true
     WHERE p.status = 'online' AND p.app_id = $4

     ORDER BY p.app_id, p.uid
     LIMIT $5;

-- PresenceService.online

    SELECT p.app_id, p.uid, LEAST((
SELECT min(ce.at) FROM connection_events ce
 WHERE ce.app_id = p.app_id AND ce.uid = p.uid
   AND (d.at IS NULL OR (ce.at >= d.at AND (ce.at, ce.status) > (d.at, d.status)))),
CASE WHEN p.status = 'online' THEN (
  SELECT min(s.connected_at) FROM sessions s
   WHERE s.app_id = p.app_id AND s.uid = p.uid AND s.opened_by = 'inferred'
     AND s.disconnected_at IS NULL AND (d.at IS NULL OR s.connected_at > d.at)) END) AS since
      FROM presence p LEFT JOIN LATERAL (
SELECT o.at, o.status FROM connection_events o
 WHERE o.app_id = p.app_id AND o.uid = p.uid AND o.status <> p.status
 ORDER BY o.at DESC LIMIT 1) d ON true
     WHERE p.status = 'online'

     ORDER BY p.app_id, p.uid
     LIMIT $1;

-- PresenceService.online

SELECT count(*) AS count FROM presence p WHERE p.status = 'online' AND p.app_id = $1;

-- PresenceService.online

SELECT count(*) AS count FROM presence p WHERE p.status = 'online';

-- PresenceService.openSessions

SELECT s.app_id, s.uid, s.session_key, s.device_id, s.platform, s.user_agent, s.sdk_version, s.api_version, s.origin, s.opened_by, s.connected_at
  FROM unnest($1::text[], $2::text[]) AS x(app_id, uid)
  JOIN sessions s ON s.app_id = x.app_id AND s.uid = x.uid
 WHERE s.disconnected_at IS NULL
 ORDER BY s.app_id, s.uid, s.connected_at, s.session_key;

-- PresenceService.openSessions

SELECT s.app_id, s.uid, s.session_key, s.device_id, s.platform, s.user_agent, s.sdk_version, s.api_version, s.origin, s.opened_by, s.connected_at
  FROM unnest($1::text[], $2::text[]) AS x(app_id, uid)
  JOIN sessions s ON s.app_id = x.app_id AND s.uid = x.uid
 WHERE s.disconnected_at IS NULL AND s.app_id = $3
 ORDER BY s.app_id, s.uid, s.connected_at, s.session_key;

-- PresenceService.presence

    SELECT p.app_id, p.uid, p.status, p.last_seen_at, p.last_active_at, LEAST((
SELECT min(ce.at) FROM connection_events ce
 WHERE ce.app_id = $1 AND ce.uid = p.uid
   AND (d.at IS NULL OR (ce.at >= d.at AND (ce.at, ce.status) > (d.at, d.status)))),
CASE WHEN p.status = 'online' THEN (
  SELECT min(s.connected_at) FROM sessions s
   WHERE s.app_id = $2 AND s.uid = p.uid AND s.opened_by = 'inferred'
     AND s.disconnected_at IS NULL AND (d.at IS NULL OR s.connected_at > d.at)) END) AS since,
           COALESCE((SELECT json_agg(json_build_object(
                       'session_key', s.session_key, 'device_id', s.device_id,
                       'platform', s.platform, 'user_agent', s.user_agent,
                       'sdk_version', s.sdk_version, 'api_version', s.api_version,
                       'origin', s.origin, 'opened_by', s.opened_by,
                       'connected_at', s.connected_at)
                     ORDER BY s.connected_at, s.session_key)
                       FROM sessions s
                      WHERE s.app_id = $3 AND s.uid = p.uid AND s.disconnected_at IS NULL),
                    '[]') AS sessions
      FROM presence p LEFT JOIN LATERAL (
SELECT o.at, o.status FROM connection_events o
 WHERE o.app_id = $4 AND o.uid = p.uid AND o.status <> p.status
 ORDER BY o.at DESC LIMIT 1) d ON true
     WHERE p.uid = $5 AND p.app_id = $6
     LIMIT 2;

-- PresenceService.resolveApp
SELECT "public"."presence"."app_id", "public"."presence"."uid" FROM "public"."presence" WHERE ("public"."presence"."uid" = $1 AND "public"."presence"."app_id" = $2) ORDER BY "public"."presence"."app_id" ASC, "public"."presence"."uid" ASC LIMIT $3 OFFSET $4;

-- PresenceService.sessions

SELECT COALESCE(round(sum(EXTRACT(EPOCH FROM upper(r) - lower(r)) * 1000)), 0)::bigint AS ms
  FROM unnest((
    SELECT range_agg(tstzrange(connected_at,
             GREATEST(connected_at, COALESCE(disconnected_at, LEAST($1::timestamptz, now())))))
      FROM sessions
     WHERE app_id = $2 AND uid = $3

AND ($4::timestamptz IS NULL OR COALESCE(connected_at, disconnected_at) < $5::timestamptz)
AND ($6::timestamptz IS NULL OR disconnected_at IS NULL OR disconnected_at > $7::timestamptz
     OR COALESCE(connected_at, disconnected_at) >= $8::timestamptz) AND connected_at IS NOT NULL
  ) * tstzmultirange(tstzrange($9::timestamptz, $10::timestamptz, '[)'))) AS r;

-- PresenceService.sessions

SELECT COALESCE(round(sum(EXTRACT(EPOCH FROM upper(r) - lower(r)) * 1000)), 0)::bigint AS ms
  FROM unnest((
    SELECT range_agg(tstzrange(connected_at,
             GREATEST(connected_at, COALESCE(disconnected_at, LEAST($1::timestamptz, now())))))
      FROM sessions
     WHERE app_id = $2 AND uid = $3
AND platform = $4
AND ($5::timestamptz IS NULL OR COALESCE(connected_at, disconnected_at) < $6::timestamptz)
AND ($7::timestamptz IS NULL OR disconnected_at IS NULL OR disconnected_at > $8::timestamptz
     OR COALESCE(connected_at, disconnected_at) >= $9::timestamptz) AND connected_at IS NOT NULL
  ) * tstzmultirange(tstzrange($10::timestamptz, $11::timestamptz, '[)'))) AS r;

-- PresenceService.sessions

SELECT s.app_id, s.uid, s.session_key, s.device_id, s.platform, s.user_agent, s.sdk_version, s.api_version, s.origin, s.opened_by, s.connected_at, s.disconnected_at, s.closed_by,
       COALESCE(s.connected_at, s.disconnected_at) AS start_at
  FROM sessions s
 WHERE app_id = $1 AND uid = $2

AND ($3::timestamptz IS NULL OR COALESCE(connected_at, disconnected_at) < $4::timestamptz)
AND ($5::timestamptz IS NULL OR disconnected_at IS NULL OR disconnected_at > $6::timestamptz
     OR COALESCE(connected_at, disconnected_at) >= $7::timestamptz)

 ORDER BY start_at DESC, session_key DESC
 LIMIT $8;

-- PresenceService.sessions

SELECT s.app_id, s.uid, s.session_key, s.device_id, s.platform, s.user_agent, s.sdk_version, s.api_version, s.origin, s.opened_by, s.connected_at, s.disconnected_at, s.closed_by,
       COALESCE(s.connected_at, s.disconnected_at) AS start_at
  FROM sessions s
 WHERE app_id = $1 AND uid = $2
AND platform = $3
AND ($4::timestamptz IS NULL OR COALESCE(connected_at, disconnected_at) < $5::timestamptz)
AND ($6::timestamptz IS NULL OR disconnected_at IS NULL OR disconnected_at > $7::timestamptz
     OR COALESCE(connected_at, disconnected_at) >= $8::timestamptz)

 ORDER BY start_at DESC, session_key DESC
 LIMIT $9;
