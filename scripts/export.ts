// npm run export -- <messages|receipts|sessions|events> --app APP --from T --to T
//                    [--format csv|ndjson] [--out FILE]
//
// The same rows, columns, order and formats as GET /export/…, from the same service code, read
// from the database directly (DATABASE_URL, or the embedded PostgreSQL), with no range limit:
// written to FILE or standard output, with a progress bar on standard error.
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { ensurePrismaClient } from './webhook-sink';
import { parseQueryTime } from '../src/common/query-params';
import { EXPORT_FORMATS, ExportFormat } from '../src/exports/export-formats';
import type { ExportKind } from '../src/exports/export.service';

const KINDS = ['messages', 'receipts', 'sessions', 'events'];

const USAGE = `Usage: npm run export -- <${KINDS.join('|')}> --app APP_ID --from TIME --to TIME [--format csv|ndjson] [--out FILE]

  --app ID         the app whose rows are exported
  --from, --to     the range [from, to) (ISO-8601 or Unix s/ms), on the time GET /export/… uses
  --format F       csv (RFC 4180, header row; the default) or ndjson
  --out FILE       write there instead of standard output
Uses DATABASE_URL, or the embedded PostgreSQL (EMBEDDED_PG_PORT, EMBEDDED_PG_DIR). Reads what is
derived when it starts (it does not wait for derivation to catch up).`;

export interface ExportIo {
  /** Where the rows go without --out (standard output). */
  stdout: Writable;
  /** Progress and the summary line (standard error). */
  stderr: NodeJS.WriteStream | Writable;
  env: Record<string, string | undefined>;
}

export async function runExport(
  argv: string[],
  io: ExportIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      app: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stderr.write(USAGE + '\n');
    return 0;
  }
  const kind = positionals[0];
  const problems = [
    positionals.length !== 1 || !KINDS.includes(kind) ? `one of ${KINDS.join(', ')}` : null,
    values.app ? null : '--app',
    !EXPORT_FORMATS.includes(values.format as ExportFormat) ? '--format csv or ndjson' : null,
  ].filter((p) => p !== null);
  const from = time('--from', values.from, problems);
  const to = time('--to', values.to, problems);
  if (from !== null && to !== null && from > to) {
    problems.push('--from not after --to');
  }
  if (problems.length > 0) {
    io.stderr.write(`Needed: ${problems.join('; ')}\n\n${USAGE}\n`);
    return 2;
  }

  ensurePrismaClient();
  const [{ NestFactory }, { AppModule }, cfg, db, { ExportService }] = await Promise.all([
    import('@nestjs/core'),
    import('../src/app.module'),
    import('../src/config/app-config'),
    import('../src/db/database'),
    import('../src/exports/export.service'),
  ]);
  const config = cfg.loadConfig({
    ...io.env,
    LOG_LEVEL: io.env.LOG_LEVEL ?? 'warn',
    DERIVE_ENABLED: 'false',
  });
  const database = db.openDatabase(config);
  try {
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot(config, database.url),
      { logger: ['error', 'warn'] },
    );
    try {
      const exports = app.get(ExportService);
      const range = { appId: values.app!, from: from!, to: to! };
      const total = await exports.count(kind as ExportKind, range);
      const tty = 'isTTY' in io.stderr && io.stderr.isTTY === true;
      const bar = tty
        ? new SingleBar({
            format: `export ${kind} |{bar}| {percentage}% {value}/{total} rows · {eta_formatted} left`,
            stream: io.stderr,
            hideCursor: true,
          })
        : undefined;
      bar?.start(total, 0);
      let rows = 0;
      const started = performance.now();
      const { stream } = await exports.open(
        kind as ExportKind,
        range,
        values.format as ExportFormat,
        (n) => {
          rows += n;
          bar?.update(rows);
        },
      );
      await pipeline(stream, values.out ? createWriteStream(values.out) : io.stdout, {
        end: values.out !== undefined,
      });
      bar?.stop();
      const seconds = (performance.now() - started) / 1000;
      io.stderr.write(
        `Exported ${rows} ${kind} rows in ${seconds.toFixed(1)} s (${Math.round(rows / Math.max(seconds, 0.001))} rows/s)` +
          (values.out ? ` to ${values.out}` : '') +
          '\n',
      );
      return 0;
    } finally {
      await app.close();
    }
  } finally {
    database.close();
  }
}

/** A time, read as strictly as the API reads query times. */
function time(flag: string, value: string | undefined, problems: string[]): number | null {
  const ms = value === undefined ? null : parseQueryTime(value);
  if (ms === null) {
    problems.push(`${flag} TIME (ISO-8601 or Unix seconds/ms)`);
  }
  return ms;
}

if (require.main === module) {
  runExport(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
