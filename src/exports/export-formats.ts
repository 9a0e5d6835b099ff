/** What a column's text is, for NDJSON (CSV writes every value as its text). */
export type ColumnType = 'text' | 'time' | 'number' | 'boolean' | 'json';

export interface ExportColumn {
  /** The name in the CSV header and the NDJSON key: the API's name for it. */
  name: string;
  /** The SQL giving its value (a time is formatted as the API writes times). */
  sql: string;
  type: ColumnType;
}

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** RFC 4180: a field holding a comma, a double quote, CR or LF is quoted, its quotes doubled. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The CSV header line, CRLF-terminated as RFC 4180 has it. */
export const csvHeader = (columns: ExportColumn[]) =>
  columns.map((c) => csvField(c.name)).join(',') + '\r\n';

/**
 * Turns a row of PostgreSQL text values into one line. CSV: null is an empty field, booleans
 * `true`/`false`, JSON its text. NDJSON: one object per line with typed values.
 */
export function lineEncoder(
  format: ExportFormat,
  columns: ExportColumn[],
): (row: (string | null)[]) => string {
  const types = columns.map((c) => c.type);
  if (format === 'csv') {
    return (row) => {
      let line = '';
      for (let i = 0; i < row.length; i++) {
        const v = row[i];
        if (i > 0) {
          line += ',';
        }
        if (v !== null) {
          line += types[i] === 'boolean' ? (v === 't' ? 'true' : 'false') : csvField(v);
        }
      }
      return line + '\r\n';
    };
  }
  const keys = columns.map((c) => JSON.stringify(c.name) + ':');
  return (row) => {
    let line = '{';
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      line += (i > 0 ? ',' : '') + keys[i];
      if (v === null) {
        line += 'null';
      } else if (types[i] === 'boolean') {
        line += v === 't' ? 'true' : 'false';
      } else if (types[i] === 'number' || types[i] === 'json') {
        line += v;
      } else {
        line += JSON.stringify(v);
      }
    }
    return line + '}\n';
  };
}
