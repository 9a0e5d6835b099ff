import { spawn } from 'node:child_process';
import { Client } from 'pg';
import { exportQuery, ExportKind } from '../src/exports/export.service';
import { Profile } from './profile';
import { QUERY_APP, Seeded } from './seed';
import { Service } from './service';
import { median } from './stats';

const DAY_MS = 86_400_000;

export interface ActiveUsersTiming {
  query: string;
  medianMs: number;
  maxMs: number;
  timingsMs: number[];
  buckets: number;
}

export interface ActiveUsersCheck {
  /** Distinct users online / senders over the 30-day window: the answer and a count over the rows. */
  online: { answered: number; counted: number };
  senders: { answered: number; counted: number };
  /** Online users on the window's last day that has begun. */
  lastDay: { answered: number; counted: number };
}

export interface ExportThroughput {
  kind: ExportKind;
  format: 'csv' | 'ndjson';
  days: number;
  rows: number;
  megabytes: number;
  seconds: number;
  rowsPerS: number;
  /** The same query under `COPY … TO STDOUT (FORMAT csv)` through psql, read by this process. */
  copy: { rows: number; seconds: number; rowsPerS: number } | { unavailable: string };
  /** rowsPerS ÷ COPY's rows/s */
  ratio: number | null;
}

export interface Analytics {
  activeUsers: ActiveUsersTiming[];
  activeUsersCheck: ActiveUsersCheck;
  exports: ExportThroughput[];
}

/** GET /analytics/active-users timed over the seeded app; exports against COPY of their query. */
export async function runAnalytics(
  sql: Client,
  url: string,
  service: Service,
  seeded: Seeded,
  profile: Profile,
  log: (line: string) => void,
): Promise<Analytics> {
  const headers = { authorization: service.apiAuth };
  const to = seeded.to.toISOString();
  const activeUsers: ActiveUsersTiming[] = [];
  let month: { stickiness: Stickiness; buckets: Bucket[] } | undefined;
  for (const query of [
    `interval=day`,
    `interval=day&platform=all`,
    `interval=week`,
    `interval=month`,
  ]) {
    const path = `/analytics/active-users?appId=${QUERY_APP}&to=${encodeURIComponent(to)}&${query}`;
    const timingsMs: number[] = [];
    let body = '';
    for (let i = 0; i <= profile.latencyRepetitions; i++) {
      const started = performance.now();
      const res = await fetch(service.url + path, { headers });
      body = await res.text();
      if (res.status !== 200) {
        throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`);
      }
      if (i > 0) {
        timingsMs.push(Math.round((performance.now() - started) * 10) / 10);
      }
    }
    const answer = JSON.parse(body) as { stickiness: Stickiness; buckets: Bucket[] };
    if (query === 'interval=day') {
      month = answer;
    }
    const timing = {
      query,
      medianMs: median(timingsMs),
      maxMs: Math.max(...timingsMs),
      timingsMs,
      buckets: answer.buckets.length,
    };
    activeUsers.push(timing);
    log(
      `active-users ${query}: median ${timing.medianMs} ms, max ${timing.maxMs} ms (${timing.buckets} buckets)`,
    );
  }
  const activeUsersCheck = await checkActiveUsers(sql, month!);
  log(
    `active-users checked against a count over the sessions and messages: ${JSON.stringify(activeUsersCheck)}`,
  );

  const exports: ExportThroughput[] = [];
  for (const [kind, format] of [
    ['receipts', 'csv'],
    ['receipts', 'ndjson'],
    ['messages', 'csv'],
  ] as const) {
    const result = await timeExport(sql, url, service, seeded, kind, format, 7);
    exports.push(result);
    log(
      `export ${kind} ${format}, ${result.days} d: ${result.rows} rows, ${result.megabytes} MB in ${result.seconds} s = ${result.rowsPerS} rows/s; COPY ${'unavailable' in result.copy ? result.copy.unavailable : `${result.copy.rowsPerS} rows/s`}; ratio ${result.ratio ?? '–'}`,
    );
  }
  return { activeUsers, activeUsersCheck, exports };
}

interface Stickiness {
  online: { distinct: number };
  senders: { distinct: number };
}
interface Bucket {
  start: string;
  end: string;
  online: number;
}

/** The day query's window distinct users and last begun day, counted from the rows directly. */
async function checkActiveUsers(
  sql: Client,
  answer: { stickiness: Stickiness; buckets: Bucket[] },
): Promise<ActiveUsersCheck> {
  const from = answer.buckets[0].start;
  const to = answer.buckets.at(-1)!.end;
  const begun = answer.buckets.filter((b) => Date.parse(b.start) <= Date.now()).at(-1)!;
  const online = (a: string, b: string) =>
    sql
      .query<{ n: number }>(
        `SELECT count(DISTINCT uid)::int AS n FROM sessions
          WHERE app_id = $1
            AND CASE WHEN connected_at IS NULL OR disconnected_at <= connected_at
                     THEN COALESCE(connected_at, disconnected_at) >= $2
                          AND COALESCE(connected_at, disconnected_at) < $3
                     WHEN disconnected_at IS NULL THEN connected_at < $3 AND $2 <= now()
                     ELSE connected_at < $3 AND disconnected_at > $2 END`,
        [QUERY_APP, a, b],
      )
      .then((r) => r.rows[0].n);
  const senders = await sql.query<{ n: number }>(
    `SELECT count(DISTINCT sender)::int AS n FROM messages
      WHERE app_id = $1 AND sent_at >= $2 AND sent_at < $3`,
    [QUERY_APP, from, to],
  );
  return {
    online: { answered: answer.stickiness.online.distinct, counted: await online(from, to) },
    senders: { answered: answer.stickiness.senders.distinct, counted: senders.rows[0].n },
    lastDay: { answered: begun.online, counted: await online(begun.start, begun.end) },
  };
}

/** One export over HTTP, then COPY of the same query through psql; both read by this process. */
async function timeExport(
  sql: Client,
  url: string,
  service: Service,
  seeded: Seeded,
  kind: ExportKind,
  format: 'csv' | 'ndjson',
  days: number,
): Promise<ExportThroughput> {
  const range = {
    appId: QUERY_APP,
    from: seeded.to.getTime() - days * DAY_MS,
    to: seeded.to.getTime(),
  };
  const path = `/export/${kind}?appId=${QUERY_APP}&from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}&format=${format}`;
  const started = performance.now();
  const res = await fetch(service.url + path, { headers: { authorization: service.apiAuth } });
  if (res.status !== 200 || !res.body) {
    throw new Error(`${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      lines++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = format === 'csv' ? lines - 1 : lines;
  const rowsPerS = Math.round(rows / seconds);

  // COPY takes no parameters: the same text with its three values written in as literals.
  const { text, values } = exportQuery(kind, range);
  const literal = text.replace(/\$(\d)/g, (_, n: string) =>
    sql.escapeLiteral(values[Number(n) - 1]),
  );
  const copy = await psqlCopy(url, `COPY (${literal}) TO STDOUT WITH (FORMAT csv, HEADER)`);
  return {
    kind,
    format,
    days,
    rows,
    megabytes: Math.round(bytes / 2 ** 20),
    seconds: Math.round(seconds * 10) / 10,
    rowsPerS,
    copy,
    ratio: 'unavailable' in copy ? null : Math.round((rowsPerS / copy.rowsPerS) * 100) / 100,
  };
}

function psqlCopy(
  url: string,
  statement: string,
): Promise<{ rows: number; seconds: number; rowsPerS: number } | { unavailable: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', statement], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        lines++;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ unavailable: `psql: ${error.message}` }));
    child.on('close', (code) => {
      if (code !== 0) {
        resolve({ unavailable: `psql exited ${code}: ${stderr.trim().slice(0, 200)}` });
        return;
      }
      const seconds = (performance.now() - started) / 1000;
      const rows = lines - 1;
      resolve({
        rows,
        seconds: Math.round(seconds * 10) / 10,
        rowsPerS: Math.round(rows / seconds),
      });
    });
  });
}
