import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Baselines } from './baselines';
import { Ingest } from './ingest';
import { LoadResult } from './load';
import { Profile } from './profile';
import { LatencyTiming, Queries } from './queries';
import { Seeded } from './seed';
import { round1 } from './stats';

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean | null;
}

export interface Results {
  profile: Profile;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    node: string;
    /** 1-minute load average when the bench started: above ~1, other work competes for the cores. */
    loadAtStart: number;
  };
  postgres: Record<string, string>;
  startedAt: string;
  durationS: number;
  baselines?: Baselines;
  ingest?: Ingest;
  seeded?: Seeded;
  queries?: Queries;
  goals: Goal[];
  error?: string;
}

export function machine(): Results['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAtStart: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** SPEC section 5, measured: ingest against the baselines at 50 connections, queries, memory. */
export function goals(r: Omit<Results, 'goals'>): Goal[] {
  const goals: Goal[] = [];
  const at50 = r.ingest?.runs.find((x) => x.connections === 50);
  const b = r.baselines;
  if (at50 && b) {
    if ('tps' in b.pgbench) {
      const ratio = at50.rps / b.pgbench.tps;
      goals.push({
        goal: 'ingest ≥ 1.0× pgbench (50 conns)',
        measured: `${ratio.toFixed(2)}×`,
        pass: ratio >= 1,
      });
    } else {
      goals.push({ goal: 'ingest ≥ 1.0× pgbench (50 conns)', measured: 'skipped', pass: null });
    }
    const ratio = at50.rps / b.prismaCreate.rps;
    goals.push({
      goal: 'ingest ≥ 3× prisma.create (50 conns)',
      measured: `${ratio.toFixed(2)}×`,
      pass: ratio >= 3,
    });
    goals.push({
      goal: 'ingest p99 < 15 ms (50 conns)',
      measured: `${at50.p99Ms} ms`,
      pass: at50.p99Ms < 15,
    });
  }
  if (r.ingest) {
    goals.push({
      goal: 'service RSS < 300 MB during ingest',
      measured: `${r.ingest.peakRssMb} MB peak`,
      pass: r.ingest.peakRssMb < 300,
    });
    const c = r.ingest.correctness;
    goals.push({
      goal: 'every 200-acked event stored exactly once',
      measured: `${c.missing} missing, ${c.duplicated} duplicated of ${c.acked}`,
      pass: c.pass,
    });
  }
  const users = r.seeded ? `${r.seeded.users.toLocaleString('en')} users` : '';
  if (r.queries) {
    const p = r.queries.presence;
    goals.push({
      goal: `presence p99 < 5 ms (${users})`,
      measured: 'unavailable' in p ? p.unavailable : `${p.p99Ms} ms`,
      pass: 'unavailable' in p ? false : p.p99Ms < 5 && p.non2xx === 0,
    });
    const reads = r.queries.latency.filter((l) => l.kind === 'read');
    const timed = reads.filter((l): l is LatencyTiming => !('unavailable' in l));
    const receipts = r.seeded ? `${r.seeded.receipts.toLocaleString('en')} receipts` : '';
    goals.push({
      goal: `read-latency < 300 ms, windows ≤ 30 d (${receipts})`,
      measured:
        timed.length < reads.length
          ? 'endpoint unavailable'
          : `max ${Math.max(...timed.map((l) => l.maxMs))} ms`,
      pass: timed.length === reads.length && timed.every((l) => l.maxMs < 300),
    });
    const accurate = (l: LatencyTiming) =>
      l.countMatches && (l.approximate ? l.maxRelativeError <= 0.01 : l.maxRelativeError === 0);
    goals.push({
      goal: 'read-latency exact, or ≤ 1% off when approximate',
      measured:
        timed.length < reads.length
          ? 'endpoint unavailable'
          : `max error ${(Math.max(...timed.map((l) => l.maxRelativeError)) * 100).toFixed(2)}%${timed.some((l) => l.approximate) ? ' (approximate)' : ''}`,
      pass: timed.length === reads.length && timed.every(accurate),
    });
  }
  return goals;
}

/** The one table the bench prints. */
export function render(r: Results): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `Presence & Receipts Store bench, ${r.profile.name} profile, ${r.startedAt}`,
    `${m.cpus} cores (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}, PostgreSQL ${r.postgres.server_version ?? '?'}; load generator, service and PostgreSQL share the cores`,
  );
  if (m.loadAtStart > 1) {
    lines.push(
      `WARNING: load average was ${m.loadAtStart} at start: other processes compete for the cores, figures are low and noisy`,
    );
  }
  lines.push('');
  const b = r.baselines;
  const base = {
    pgbench: b && 'tps' in b.pgbench ? b.pgbench.tps : undefined,
    prisma: b?.prismaCreate.rps,
    pg: b?.pgInsert.rps,
    bare: b?.bare.rps,
  };
  const ratio = (x: number, y: number | undefined) => (y ? `${(x / y).toFixed(2)}×` : '–');
  const rows: string[][] = [
    [
      'target',
      'conns',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      '÷pgbench',
      '÷prisma',
      '÷pg-insert',
      '÷bare',
    ],
  ];
  const loadRow = (name: string, x: LoadResult, ratios: boolean) => [
    name,
    String(x.connections),
    String(x.rps),
    String(x.p50Ms),
    String(x.p99Ms),
    String(x.non2xx + x.errors),
    ...(ratios
      ? [
          ratio(x.rps, base.pgbench),
          ratio(x.rps, base.prisma),
          ratio(x.rps, base.pg),
          ratio(x.rps, base.bare),
        ]
      : ['', '', '', '']),
  ];
  if (b) {
    rows.push(loadRow('baseline: bare Fastify', b.bare, false));
    rows.push(loadRow('baseline: pg INSERT/request', b.pgInsert, false));
    rows.push(
      'tps' in b.pgbench
        ? [
            'baseline: pgbench INSERT/tx',
            String(b.pgbench.clients),
            String(b.pgbench.tps),
            String(b.pgbench.p50Ms),
            String(b.pgbench.p99Ms),
            String(b.pgbench.failed),
            '',
            '',
            '',
            '',
          ]
        : ['baseline: pgbench', '–', b.pgbench.skipped, '', '', '', '', '', '', ''],
    );
    rows.push(loadRow('baseline: prisma.create', b.prismaCreate, false));
  }
  for (const run of r.ingest?.runs ?? []) {
    rows.push(loadRow('service: POST /webhooks', run, true));
  }
  const q = r.queries;
  if (q) {
    rows.push(
      'unavailable' in q.presence
        ? ['service: GET presence', '–', q.presence.unavailable, '', '', '', '', '', '', '']
        : loadRow('service: GET presence', q.presence, false),
    );
  }
  lines.push(table(rows), '');

  if (r.ingest) {
    const c = r.ingest.correctness;
    lines.push(
      `service peak RSS during ingest: ${r.ingest.peakRssMb} MB (${r.ingest.rssSamples} samples)`,
      `exactly-once: sent ${c.sent}, acked ${c.acked}, stored ${c.stored}, missing ${c.missing}, duplicated ${c.duplicated}, derived rows missing ${c.derivedMissing}, acked as duplicate ${c.ackedAsDuplicate}`,
      '',
    );
  }
  if (q && r.seeded) {
    const s = r.seeded;
    lines.push(
      `queries over ${s.users.toLocaleString('en')} users, ${s.receipts.toLocaleString('en')} receipts in ${r.profile.receiptDays} days (seeded in ${s.seconds} s)`,
    );
    const latencyRows = [
      ['latency query', 'window', 'median ms', 'max ms', 'receipts', 'error', 'approx'],
    ];
    for (const l of q.latency) {
      latencyRows.push(
        'unavailable' in l
          ? [`${l.kind}-latency`, `${l.days} d`, l.unavailable, '', '', '', '']
          : [
              `${l.kind}-latency`,
              `${l.days} d`,
              String(round1(l.medianMs)),
              String(round1(l.maxMs)),
              String(l.count),
              `${(l.maxRelativeError * 100).toFixed(2)}%${l.countMatches ? '' : ' (count differs)'}`,
              l.approximate ? 'yes' : 'no',
            ],
      );
    }
    lines.push(table(latencyRows), '');
  }

  lines.push(
    table([
      ['SPEC 5 goal', 'measured', 'result'],
      ...r.goals.map((g) => [
        g.goal,
        g.measured,
        g.pass === null ? 'n/a' : g.pass ? 'PASS' : 'FAIL',
      ]),
    ]),
  );
  if (r.profile.name === 'quick') {
    lines.push(
      '(quick profile: smaller data and 5 s runs; the SPEC figures are from the full profile)',
    );
  }
  if (r.error) {
    lines.push('', `RUN FAILED: ${r.error}`);
  }
  return lines.join('\n');
}

export function write(r: Results): string {
  const file = path.join(__dirname, 'results', 'latest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}
