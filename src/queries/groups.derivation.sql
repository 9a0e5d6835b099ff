-- The SQL src/groups/groups.derivation.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- GroupsDerivation.writeGroupMembers
DELETE FROM group_memberships g USING unnest($1::text[], $2::text[], $3::text[]) AS m(app_id, guid, uid)
WHERE g.app_id = $4 AND g.app_id = m.app_id
  AND g.guid = m.guid AND g.uid = m.uid;

-- GroupsDerivation.writeGroupMembers
INSERT INTO group_member_events (app_id, guid, uid, at, change, event_id)
SELECT DISTINCT ON (app_id, guid, uid, at, change) app_id, guid, uid, at, change, event_id
  FROM (SELECT x.app_id, x.guid, x.uid, x.change, x.event_id,
               COALESCE(to_timestamp(x.at_ms / 1000.0),
                        (SELECT w.event_at FROM webhook_events w
                          WHERE w.app_id = $7 AND w.id = x.event_id)) AS at
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::bigint[]) AS x(app_id, guid, uid, change, at_ms, event_id)) e
 ORDER BY app_id, guid, uid, at, change, event_id
ON CONFLICT (app_id, guid, uid, at, change) DO UPDATE
   SET event_id = LEAST(group_member_events.event_id, EXCLUDED.event_id);

-- GroupsDerivation.writeGroupMembers
INSERT INTO group_memberships (app_id, guid, uid, joined_at, left_at)
SELECT app_id, guid, uid, joined_at, left_at
  FROM (SELECT app_id, guid, uid, is_in, prev_in,
               CASE WHEN is_in THEN at ELSE '-infinity' END AS joined_at,
               CASE WHEN is_in THEN lead(at) OVER w ELSE at END AS left_at
          FROM (SELECT e.app_id, e.guid, e.uid, e.at, e.change IN ('created', 'joined', 'added') AS is_in,
                       lag(e.change IN ('created', 'joined', 'added')) OVER (PARTITION BY e.app_id, e.guid, e.uid
                                                        ORDER BY e.at, e.change IN ('created', 'joined', 'added') DESC) AS prev_in
                  FROM group_member_events e
                  JOIN (SELECT DISTINCT app_id, guid, uid FROM unnest($1::text[], $2::text[], $3::text[]) AS m(app_id, guid, uid)) t
                    ON e.app_id = t.app_id AND e.guid = t.guid AND e.uid = t.uid
                 WHERE e.app_id = $4 AND e.change <> 'unbanned') ev
         WHERE prev_in IS DISTINCT FROM is_in
        WINDOW w AS (PARTITION BY app_id, guid, uid ORDER BY at, is_in DESC)) edges
 WHERE (is_in OR prev_in IS NULL) AND (left_at IS NULL OR left_at > joined_at);

-- lockGroupConversations
SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
 FROM (SELECT DISTINCT json_build_array('conversation', app_id, 'group_' || guid)::text AS k
         FROM unnest($1::text[], $2::text[]) AS g(app_id, guid)) keys
ORDER BY k;
