-- The SQL src/exports/export.service.ts runs (recorded by test/sql-record.e2e-spec.ts; npm run sql:record).

-- ExportService.open
DECLARE export_rows NO SCROLL CURSOR FOR SELECT x.app_id,
      x.id,
      x.conversation_id,
      x.sender,
      x.receiver,
      x.receiver_type,
      x.category,
      x.type,
      to_char(x.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      to_char(x.edited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      to_char(x.deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
 FROM messages x WHERE x.app_id = $1 AND x.sent_at >= $2::timestamptz AND x.sent_at < $3::timestamptz
ORDER BY x.sent_at, x.id;

-- ExportService.open
DECLARE export_rows NO SCROLL CURSOR FOR SELECT x.app_id,
      x.message_id,
      x.reader,
      x.kind,
      to_char(x.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      x.implied,
      GREATEST(x.latency_ms, 0),
      to_char(x.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      x.message_sender,
      x.receiver,
      x.receiver_type,
      x.conversation_id
 FROM (SELECT * FROM receipts
               WHERE app_id = $1 AND kind = 'delivered' AND at >= $2::timestamptz AND at < $3::timestamptz UNION ALL SELECT * FROM receipts
               WHERE app_id = $1 AND kind = 'read' AND at >= $2::timestamptz AND at < $3::timestamptz) x
ORDER BY x.at, x.kind, x.message_id, x.reader;

-- ExportService.open
DECLARE export_rows NO SCROLL CURSOR FOR SELECT x.app_id,
      x.uid,
      x.session_key,
      x.device_id,
      x.platform,
      x.user_agent,
      x.sdk_version,
      x.api_version,
      x.origin,
      to_char(x.connected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      x.opened_by,
      to_char(x.disconnected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      CASE WHEN x.disconnected_at IS NOT NULL AND x.connected_at IS NOT NULL
             THEN GREATEST(0, round(EXTRACT(EPOCH FROM x.disconnected_at - x.connected_at) * 1000))::bigint END,
      x.closed_by
 FROM (SELECT s.*, s.connected_at AS start_at FROM sessions s
            WHERE s.app_id = $1 AND s.connected_at >= $2::timestamptz AND s.connected_at < $3::timestamptz
           UNION ALL
           SELECT s.*, s.disconnected_at FROM sessions s
            WHERE s.app_id = $1 AND s.connected_at IS NULL
              AND s.disconnected_at >= $2::timestamptz AND s.disconnected_at < $3::timestamptz) x
ORDER BY x.start_at, x.uid, x.session_key;

-- ExportService.open
DECLARE export_rows NO SCROLL CURSOR FOR SELECT x.id,
      x.app_id,
      x.trigger,
      x.webhook,
      x.uid,
      to_char(x.event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      to_char(x.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      x.body::text
 FROM webhook_events x WHERE x.app_id = $1 AND x.event_at >= $2::timestamptz AND x.event_at < $3::timestamptz
ORDER BY x.event_at, x.id;
