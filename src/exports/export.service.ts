import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { Pool } from 'pg';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { AppConfig } from '../config/app-config';
import { CursorStream } from '../db/cursor-stream';
import {
  ColumnType,
  CONTENT_TYPES,
  csvHeader,
  ExportColumn,
  ExportFormat,
  lineEncoder,
} from './export-formats';

export const EXPORT_KINDS = ['messages', 'receipts', 'sessions', 'events'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface ExportRange {
  appId: string;
  /** [from, to), epoch ms */
  from: number;
  to: number;
}

const DAY_MS = 86_400_000;
const FETCH_ROWS = 2000;

const time = (sql: string) => `to_char(${sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const col = (name: string, sql: string, type: ColumnType = 'text'): ExportColumn => ({
  name,
  sql: type === 'time' ? time(sql) : sql,
  type,
});

interface Definition {
  columns: ExportColumn[];
  /** FROM … (rows of app $1 in [$2, $3)), aliased x */
  from: string;
  orderBy: string;
  /** What [from, to) is on, for the documentation. */
  rangeOn: string;
}

/** `kind = 'delivered'` and `kind = 'read'` apart, so each reads its index in time order. */
const RECEIPTS_IN_RANGE = ['delivered', 'read']
  .map(
    (kind) => `SELECT * FROM receipts
                WHERE app_id = $1 AND kind = '${kind}' AND at >= $2::timestamptz AND at < $3::timestamptz`,
  )
  .join(' UNION ALL ');

/**
 * Each export: its columns, its rows and its order, stable (ties broken by the key). The rows of
 * one app whose time is in [from, to).
 */
export const EXPORTS: Record<ExportKind, Definition> = {
  messages: {
    columns: [
      col('appId', 'x.app_id'),
      col('id', 'x.id'),
      col('conversationId', 'x.conversation_id'),
      col('sender', 'x.sender'),
      col('receiver', 'x.receiver'),
      col('receiverType', 'x.receiver_type'),
      col('category', 'x.category'),
      col('type', 'x.type'),
      col('sentAt', 'x.sent_at', 'time'),
      col('editedAt', 'x.edited_at', 'time'),
      col('deletedAt', 'x.deleted_at', 'time'),
    ],
    from: `messages x WHERE x.app_id = $1 AND x.sent_at >= $2::timestamptz AND x.sent_at < $3::timestamptz`,
    orderBy: 'x.sent_at, x.id',
    rangeOn: 'sentAt',
  },
  receipts: {
    columns: [
      col('appId', 'x.app_id'),
      col('messageId', 'x.message_id'),
      col('reader', 'x.reader'),
      col('kind', 'x.kind'),
      col('at', 'x.at', 'time'),
      col('implied', 'x.implied', 'boolean'),
      col('latencyMs', 'GREATEST(x.latency_ms, 0)', 'number'),
      col('sentAt', 'x.sent_at', 'time'),
      col('messageSender', 'x.message_sender'),
      col('receiver', 'x.receiver'),
      col('receiverType', 'x.receiver_type'),
      col('conversationId', 'x.conversation_id'),
    ],
    from: `(${RECEIPTS_IN_RANGE}) x`,
    orderBy: 'x.at, x.kind, x.message_id, x.reader',
    rangeOn: 'at',
  },
  sessions: {
    columns: [
      col('appId', 'x.app_id'),
      col('uid', 'x.uid'),
      col('sessionId', 'x.session_key'),
      col('deviceId', 'x.device_id'),
      col('platform', 'x.platform'),
      col('userAgent', 'x.user_agent'),
      col('sdkVersion', 'x.sdk_version'),
      col('apiVersion', 'x.api_version'),
      col('origin', 'x.origin'),
      col('connectedAt', 'x.connected_at', 'time'),
      col('openedBy', 'x.opened_by'),
      col('disconnectedAt', 'x.disconnected_at', 'time'),
      col(
        'durationMs',
        `CASE WHEN x.disconnected_at IS NOT NULL AND x.connected_at IS NOT NULL
              THEN GREATEST(0, round(EXTRACT(EPOCH FROM x.disconnected_at - x.connected_at) * 1000))::bigint END`,
        'number',
      ),
      col('closedBy', 'x.closed_by'),
    ],
    // A session whose connect was never seen is placed at its disconnect, as GET /users/:uid/sessions does.
    from: `(SELECT s.*, s.connected_at AS start_at FROM sessions s
             WHERE s.app_id = $1 AND s.connected_at >= $2::timestamptz AND s.connected_at < $3::timestamptz
            UNION ALL
            SELECT s.*, s.disconnected_at FROM sessions s
             WHERE s.app_id = $1 AND s.connected_at IS NULL
               AND s.disconnected_at >= $2::timestamptz AND s.disconnected_at < $3::timestamptz) x`,
    orderBy: 'x.start_at, x.uid, x.session_key',
    rangeOn: 'connectedAt (disconnectedAt when the connect was never seen)',
  },
  events: {
    columns: [
      col('eventId', 'x.id', 'number'),
      col('appId', 'x.app_id'),
      col('trigger', 'x.trigger'),
      col('webhook', 'x.webhook'),
      col('uid', 'x.uid'),
      col('eventAt', 'x.event_at', 'time'),
      col('receivedAt', 'x.received_at', 'time'),
      col('body', 'x.body::text', 'json'),
    ],
    from: `webhook_events x WHERE x.app_id = $1 AND x.event_at >= $2::timestamptz AND x.event_at < $3::timestamptz`,
    orderBy: 'x.event_at, x.id',
    rangeOn: 'eventAt',
  },
};

/** The query of an export: the same text for the cursor, a count, and the bench's COPY. */
export function exportQuery(
  kind: ExportKind,
  range: ExportRange,
): { text: string; values: [string, string, string] } {
  const d = EXPORTS[kind];
  return {
    text: `SELECT ${d.columns.map((c) => c.sql).join(',\n       ')}\n  FROM ${d.from}\n ORDER BY ${d.orderBy}`,
    values: [range.appId, new Date(range.from).toISOString(), new Date(range.to).toISOString()],
  };
}

export interface OpenedExport {
  stream: CursorStream;
  contentType: string;
  filename: string;
}

/**
 * Streams one app's rows of a time range as CSV or NDJSON, from a server-side cursor: the HTTP
 * routes and `npm run export` share it, and the bench runs its query under COPY.
 */
@Injectable()
export class ExportService {
  private running = 0;

  constructor(
    private readonly pool: Pool,
    private readonly config: AppConfig,
  ) {}

  query(kind: ExportKind, range: ExportRange): { text: string; values: unknown[] } {
    return exportQuery(kind, range);
  }

  /** How many rows the export holds (for a progress bar). */
  async count(kind: ExportKind, range: ExportRange): Promise<number> {
    const { text, values } = this.query(kind, range);
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (${text}) q`,
      values,
    );
    return Number(rows[0].n);
  }

  /** An HTTP export: bounded in length and in how many run at once (each holds a connection). */
  async openForRequest(
    kind: ExportKind,
    range: ExportRange,
    format: ExportFormat,
  ): Promise<OpenedExport> {
    if (range.from > range.to) {
      throw new BadQueryParameterError('from', 'from must not be after to');
    }
    const maxDays = this.config.EXPORT_MAX_DAYS;
    if (range.to - range.from > maxDays * DAY_MS) {
      throw new BadQueryParameterError(
        'to',
        `an export covers at most ${maxDays} days (EXPORT_MAX_DAYS): split longer ranges, or use npm run export`,
      );
    }
    const limit = Math.max(1, Math.floor(this.config.DB_POOL_SIZE / 2));
    if (this.running >= limit) {
      throw new ServiceUnavailableException({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${limit} exports are running already; retry later`,
      });
    }
    this.running++;
    try {
      const opened = await this.open(kind, range, format);
      opened.stream.once('close', () => this.running--);
      return opened;
    } catch (error) {
      this.running--;
      throw error;
    }
  }

  /** The export as a stream; `onRows` hears how many rows each chunk held. */
  async open(
    kind: ExportKind,
    range: ExportRange,
    format: ExportFormat,
    onRows?: (rows: number) => void,
  ): Promise<OpenedExport> {
    const { columns } = EXPORTS[kind];
    const stream = await CursorStream.open(this.pool, {
      ...this.query(kind, range),
      batch: FETCH_ROWS,
      head: format === 'csv' ? csvHeader(columns) : null,
      encode: lineEncoder(format, columns),
      onRows,
    });
    return { stream, contentType: CONTENT_TYPES[format], filename: filename(kind, range, format) };
  }
}

/** `receipts_app-one_20261101T000000Z_20261201T000000Z.csv`: safe in any header and file system. */
function filename(kind: ExportKind, range: ExportRange, format: ExportFormat): string {
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  const app = range.appId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return `${kind}_${app}_${stamp(range.from)}_${stamp(range.to)}.${format}`;
}
