import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LOG_DIR, run } from '../processes';
import { percentile } from '../stats';

export interface PgbenchResult {
  clients: number;
  durationS: number;
  tps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  transactions: number;
  failed: number;
}

export function pgbenchAvailable(): boolean {
  try {
    execFileSync('pgbench', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Baseline (c): the database's own ceiling for this write, with no HTTP and no Node: pgbench
 * inserting the given body one row per transaction, over TCP like every other target.
 */
export async function runPgbench(options: {
  url: string;
  clients: number;
  durationS: number;
  body: string;
}): Promise<PgbenchResult> {
  const dir = path.join(LOG_DIR, 'pgbench');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, 'insert.sql');
  // pgbench reads ":name" as a variable; a space after each JSON colon keeps the body literal.
  const literal = options.body.replace(/":/g, '": ').replace(/'/g, "''");
  fs.writeFileSync(
    script,
    `\\set n random(1, 2000000000)
INSERT INTO bench_pgbench (app_id, trigger, webhook, event_at, body_sha256, body)
VALUES ('bench-app', 'after_message', 'send-message', now(), sha256(convert_to('n' || :n, 'UTF8')), '${literal}'::jsonb);
`,
  );
  const url = new URL(options.url);
  const output = await run(
    'pgbench',
    'pgbench',
    [
      '--no-vacuum',
      `--client=${options.clients}`,
      '--jobs=2',
      `--time=${options.durationS}`,
      `--file=${script}`,
      '--log',
      `--log-prefix=${path.join(dir, 'tx')}`,
      `--host=${url.hostname}`,
      `--port=${url.port}`,
      `--username=${decodeURIComponent(url.username)}`,
      url.pathname.slice(1),
    ],
    { PGPASSWORD: decodeURIComponent(url.password) },
  );

  // Per-transaction log lines: client_id transaction_no time_us script_no epoch epoch_us.
  const latencies: number[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('tx.'))) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) {
        latencies.push(Number(fields[2]) / 1000);
      }
    }
  }
  latencies.sort((a, b) => a - b);
  const number = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
  return {
    clients: options.clients,
    durationS: options.durationS,
    tps: Math.round(number(/tps = ([\d.]+) \(without initial connection time\)/)),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    maxMs: round(latencies.at(-1) ?? NaN),
    transactions: number(/number of transactions actually processed: (\d+)/),
    failed: number(/number of failed transactions: (\d+)/) || 0,
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
