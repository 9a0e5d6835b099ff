import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Analytics } from './analytics';
import { Baselines } from './baselines';
import { Ingest } from './ingest';
import { LoadResult, OpenLoopResult } from './load';
import { Profile } from './profile';
import { LatencyTiming, Queries } from './queries';
import { Seeded } from './seed';
import { round1 } from './stats';
import { UnreadBench } from './unread';

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
  analytics?: Analytics;
  unread?: UnreadBench | { unavailable: string };
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

/** SPEC section 5, measured: each goal with its target, the figure and pass/fail. */
export function goals(r: Omit<Results, 'goals'>): Goal[] {
  const goals: Goal[] = [];
  const b = r.baselines;
  const i = r.ingest;
  const x = (value: number) => `${value.toFixed(2)}×`;
  if (i) {
    const burst = i.burst;
    const at = `${burst.connections} conns, ${r.profile.burstS} s`;
    if (b && 'tps' in b.pgbench) {
      const ratio = burst.rps / b.pgbench.tps;
      goals.push({
        goal: `burst acks ≥ 1.0× pgbench single-row tps (${at})`,
        measured: `${x(ratio)} (${burst.rps} / ${b.pgbench.tps})`,
        pass: ratio >= 1,
      });
    } else {
      goals.push({
        goal: 'burst acks ≥ 1.0× pgbench single-row tps',
        measured: 'pgbench skipped',
        pass: null,
      });
    }
    if (b) {
      const ratio = burst.rps / b.pgBatch.rps;
      goals.push({
        goal: `burst acks ≥ 0.5× batched raw insert (${at})`,
        measured: `${x(ratio)} (${burst.rps} / ${b.pgBatch.rps})`,
        pass: ratio >= 0.5,
      });
    }
    const a = i.ackLatency;
    goals.push({
      goal: `ack p99 < 15 ms at ${a.offeredRps}/s offered (open loop)`,
      measured: `p50 ${a.p50Ms} / p90 ${a.p90Ms} / p99 ${a.p99Ms} ms${a.non2xx + a.errors + a.shed > 0 ? `, ${a.non2xx + a.errors + a.shed} failed or shed` : ''}${b?.bareGetOpen ? ` (bare GET p99 ${b.bareGetOpen.p99Ms} ms)` : ''}`,
      pass: a.p99Ms < 15 && a.non2xx + a.errors + a.shed === 0,
    });
    const s = i.sustained;
    goals.push({
      goal: `sustained (derived < ${s.lagLimitS} s behind for ${s.stepS} s) ≥ 0.5× ${s.base.name}`,
      measured:
        s.highestRps === null
          ? `no step passed (lowest tried ${Math.min(...s.steps.map((t) => t.run.offeredRps))}/s)`
          : `${x(s.highestRatio ?? 0)} (${s.highestRps}/s of ${s.base.rps})`,
      pass: s.base.name === 'pgbench' ? (s.highestRatio ?? 0) >= 0.5 : null,
    });
    const d = i.drain;
    goals.push({
      goal: `backlog after a ${d.burstS} s burst drains (no SPEC figure)`,
      measured:
        d.seconds === null
          ? `${d.backlogAtEnd} events not drained in ${r.profile.drainTimeoutS} s`
          : `${d.backlogAtEnd} events in ${d.seconds} s (${d.eventsPerS ?? '–'}/s)`,
      pass: d.seconds !== null,
    });
    goals.push({
      goal: 'service RSS < 300 MB throughout ingest',
      measured: `${i.peakRssMb} MB peak`,
      pass: i.peakRssMb < 300,
    });
    const c = i.correctness;
    goals.push({
      goal: 'every 200-acked event stored and derived exactly once',
      measured: `${c.missing} missing, ${c.duplicated} duplicated, ${c.derivedMissing} derived missing of ${c.acked}${c.backlogAtCheck === 0 ? ' (backlog drained)' : ' (backlog never drained)'}`,
      pass: c.pass,
    });
  }
  const users = r.seeded ? `${r.seeded.users.toLocaleString('en')} users` : '';
  if (r.queries) {
    const p = r.queries.presence;
    goals.push({
      goal: `presence ≥ 0.5× bare Fastify GET (${r.profile.presenceConnections} conns, ${users})`,
      measured:
        'unavailable' in p
          ? p.unavailable
          : b
            ? `${x(p.rps / b.bareGet.rps)} (${p.rps} / ${b.bareGet.rps})`
            : `${p.rps} req/s, no baseline (--queries-only)`,
      // Without the baselines (--queries-only) there is nothing to judge the ratio by.
      pass: 'unavailable' in p ? false : !b ? null : p.rps / b.bareGet.rps >= 0.5 && p.non2xx === 0,
    });
    const o = r.queries.presenceLatency;
    goals.push({
      goal: `presence p99 < 5 ms at ${r.profile.presenceRate}/s offered (${users})`,
      measured:
        'unavailable' in o
          ? o.unavailable
          : `p50 ${o.p50Ms} / p90 ${o.p90Ms} / p99 ${o.p99Ms} ms${o.non2xx + o.errors + o.shed > 0 ? `, ${o.non2xx + o.errors + o.shed} failed or shed` : ''}${b?.bareGetOpen ? ` (bare GET p99 ${b.bareGetOpen.p99Ms} ms)` : ''}`,
      pass: 'unavailable' in o ? false : o.p99Ms < 5 && o.non2xx + o.errors + o.shed === 0,
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
  const a = r.analytics;
  if (a) {
    const data = r.seeded
      ? `${r.seeded.users.toLocaleString('en')} users, ${r.seeded.messages.toLocaleString('en')} messages`
      : '';
    const slowest = Math.max(...a.activeUsers.map((t) => t.maxMs));
    goals.push({
      goal: `active-users < 300 ms, day/week/month buckets (${data})`,
      measured: `max ${slowest} ms`,
      pass: slowest < 300,
    });
    const c = a.activeUsersCheck;
    const checks = [c.online, c.senders, c.lastDay];
    goals.push({
      goal: 'active-users exact (distinct online and senders, 30 d and last day, vs a count)',
      measured: checks.map((x) => `${x.answered}/${x.counted}`).join(', '),
      pass: checks.every((x) => x.answered === x.counted),
    });
    for (const e of a.exports) {
      goals.push({
        goal: `export ${e.kind} ${e.format} rows/s ÷ COPY of the same query (no SPEC figure)`,
        measured:
          e.ratio === null
            ? `${e.rowsPerS} rows/s; COPY ${'unavailable' in e.copy ? e.copy.unavailable : ''}`
            : `${e.ratio.toFixed(2)}× (${e.rowsPerS} / ${'rowsPerS' in e.copy ? e.copy.rowsPerS : ''})`,
        pass: null,
      });
    }
  }
  const u = r.unread;
  if (u) {
    const data = r.seeded
      ? `${r.seeded.users.toLocaleString('en')} users, ${r.seeded.receipts.toLocaleString('en')} receipts`
      : '';
    goals.push({
      goal: `unread counts < 300 ms, per user and re-engagement list (${data})`,
      measured:
        'unavailable' in u
          ? u.unavailable
          : `max ${Math.max(...u.timings.map((t) => t.maxMs))} ms (per user p99 ${u.timings[0].p99Ms} ms)`,
      pass: 'unavailable' in u ? false : u.timings.every((t) => t.maxMs < 300),
    });
    goals.push({
      goal: 'unread counts exact (checked against an anti-join over all messages)',
      measured:
        'unavailable' in u
          ? u.unavailable
          : `${u.timings.reduce((n, t) => n + t.matched, 0)} of ${u.timings.reduce((n, t) => n + t.checked, 0)} answers match`,
      pass: 'unavailable' in u ? false : u.timings.every((t) => t.matched === t.checked),
    });
  }
  return goals;
}

/** The tables the bench prints. */
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
  lines.push('', 'Closed loop (each connection waits for its answer):');
  const b = r.baselines;
  const base = {
    pgbench: b && 'tps' in b.pgbench ? b.pgbench.tps : undefined,
    batch: b?.pgBatch.rps,
    prisma: b?.prismaCreate.rps,
  };
  const ratio = (x: number, y: number | undefined) => (y ? `${(x / y).toFixed(2)}×` : '–');
  const rows: string[][] = [
    [
      'target',
      'conns',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'non-2xx',
      '÷pgbench',
      '÷pg-batch',
      '÷prisma',
      '÷bare',
    ],
  ];
  const loadRow = (name: string, x: LoadResult, ratios?: { bare?: number; ingest?: boolean }) => [
    name,
    String(x.connections),
    String(x.rps),
    String(x.p50Ms),
    String(x.p90Ms ?? ''),
    String(x.p99Ms),
    String(x.non2xx + x.errors),
    ratios?.ingest ? ratio(x.rps, base.pgbench) : '',
    ratios?.ingest ? ratio(x.rps, base.batch) : '',
    ratios?.ingest ? ratio(x.rps, base.prisma) : '',
    ratios?.bare ? ratio(x.rps, ratios.bare) : '',
  ];
  const blank = ['', '', '', '', '', '', '', ''];
  if (b) {
    rows.push(loadRow('baseline: bare Fastify POST', b.bare));
    rows.push(loadRow('baseline: bare Fastify GET', b.bareGet));
    rows.push(loadRow('baseline: pg INSERT/request', b.pgInsert));
    rows.push(loadRow('baseline: pg batched INSERT (same table)', b.pgBatch));
    rows.push(
      'tps' in b.pgbench
        ? [
            'baseline: pgbench INSERT/tx',
            String(b.pgbench.clients),
            String(b.pgbench.tps),
            String(b.pgbench.p50Ms),
            '',
            String(b.pgbench.p99Ms),
            String(b.pgbench.failed),
            '',
            '',
            '',
            '',
          ]
        : ['baseline: pgbench', '–', b.pgbench.skipped, ...blank],
    );
    rows.push(loadRow('baseline: prisma.create', b.prismaCreate));
  }
  if (r.ingest) {
    rows.push(
      loadRow('service: POST /webhooks (burst)', r.ingest.burst, {
        ingest: true,
        bare: b?.bare.rps,
      }),
    );
  }
  const q = r.queries;
  if (q) {
    rows.push(
      'unavailable' in q.presence
        ? ['service: GET presence', '–', q.presence.unavailable, ...blank]
        : loadRow('service: GET presence', q.presence, { bare: b?.bareGet.rps }),
    );
    if (q.presenceNoWait) {
      rows.push(
        loadRow('service: GET presence, Prefer: wait=0', q.presenceNoWait, {
          bare: b?.bareGet.rps,
        }),
      );
    }
  }
  lines.push(table(rows), '');

  const openRows: string[][] = [
    [
      'open loop',
      'offered/s',
      'answered/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'p99 from send',
      'max send delay',
      'failed',
      'shed',
    ],
  ];
  const openRow = (name: string, o: OpenLoopResult) => [
    name,
    String(o.offeredRps),
    String(o.achievedRps),
    String(o.p50Ms),
    String(o.p90Ms),
    String(o.p99Ms),
    String(o.maxMs),
    String(o.p99FromSendMs ?? ''),
    String(o.maxSendDelayMs ?? ''),
    String(o.non2xx + o.errors),
    String(o.shed),
  ];
  if (b?.bareGetOpen) {
    openRows.push(openRow('baseline: bare Fastify GET', b.bareGetOpen));
  }
  if (r.ingest) {
    openRows.push(openRow('service: POST /webhooks', r.ingest.ackLatency));
  }
  if (q && !('unavailable' in q.presenceLatency)) {
    openRows.push(openRow('service: GET presence', q.presenceLatency));
  }
  if (openRows.length > 1) {
    lines.push(
      'Open loop (requests sent on schedule; latency from the scheduled time, so a late generator counts too: see "p99 from send"):',
    );
    lines.push(table(openRows), '');
  }

  if (r.ingest) {
    const s = r.ingest.sustained;
    lines.push(
      `Sustained: offered rate held ${s.stepS} s while derivation lag is sampled once a second; passes while lag < ${s.lagLimitS} s (step stops once it is not)`,
    );
    const stepRows = [
      [
        'step',
        'offered/s',
        'acked/s',
        'ack p99 ms',
        'max lag s',
        'max backlog',
        'drained s',
        'result',
      ],
    ];
    for (const t of s.steps) {
      stepRows.push([
        `${t.fraction}× ${s.base.name} (${s.base.rps})`,
        String(t.run.offeredRps),
        String(t.run.achievedRps),
        String(t.run.p99Ms),
        String(t.maxLagS),
        String(t.maxBacklog),
        t.drainedS === null ? 'timeout' : String(t.drainedS),
        t.pass ? 'pass' : `FAIL: ${t.verdict}`,
      ]);
    }
    lines.push(table(stepRows), '');
    const d = r.ingest.drain;
    const c = r.ingest.correctness;
    lines.push(
      `after the ${d.burstS} s burst: backlog ${d.backlogAtEnd} events (oldest ${d.lagAtEndS} s), drained in ${d.seconds === null ? `more than ${r.profile.drainTimeoutS}` : d.seconds} s${d.eventsPerS ? ` (${d.eventsPerS} events/s)` : ''}`,
      ...(r.ingest.burstCpu
        ? [
            `CPU during the burst (${r.ingest.burstCpu.seconds} s, ${r.ingest.burstCpu.machineCoreS} core-s on the machine): service ${r.ingest.burstCpu.serviceCoreS} core-s = ${r.ingest.burstCpu.serviceMsPerAck} ms per ack, PostgreSQL ${r.ingest.burstCpu.postgresCoreS} core-s = ${r.ingest.burstCpu.postgresMsPerAck} ms per ack, load generator ${r.ingest.burstCpu.loadGeneratorCoreS} core-s`,
          ]
        : []),
      `service peak RSS during ingest: ${r.ingest.peakRssMb} MB (${r.ingest.rssSamples} samples)`,
      `exactly-once: sent ${c.sent}, acked ${c.acked}, stored ${c.stored}, missing ${c.missing}, duplicated ${c.duplicated}, derived rows missing ${c.derivedMissing} (checked with backlog ${c.backlogAtCheck === 0 ? 'drained' : 'NOT drained'}; ${c.derivationFailed} derivation failures), acked as duplicate ${c.ackedAsDuplicate}`,
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
  const a = r.analytics;
  if (a) {
    lines.push(
      `active users (activity days derived from the seeded rows in ${r.seeded?.activitySeconds ?? '?'} s):`,
    );
    lines.push(
      table([
        ['active-users query', 'buckets', 'median ms', 'max ms'],
        ...a.activeUsers.map((t) => [
          t.query,
          String(t.buckets),
          String(round1(t.medianMs)),
          String(round1(t.maxMs)),
        ]),
      ]),
      '',
    );
    lines.push(
      table([
        ['export', 'days', 'rows', 'MB', 's', 'rows/s', 'COPY rows/s', '÷COPY'],
        ...a.exports.map((e) => [
          `${e.kind} ${e.format}`,
          String(e.days),
          String(e.rows),
          String(e.megabytes),
          String(e.seconds),
          String(e.rowsPerS),
          'unavailable' in e.copy ? e.copy.unavailable : String(e.copy.rowsPerS),
          e.ratio === null ? '–' : `${e.ratio.toFixed(2)}×`,
        ]),
      ]),
      '',
    );
  }
  const u = r.unread;
  if (u && !('unavailable' in u)) {
    const s = u.seeded;
    lines.push(
      `unread over ${s.messages.toLocaleString('en')} messages (${s.unreadExtra.toLocaleString('en')} unread one-to-one), ${s.memberships.toLocaleString('en')} group memberships, ${s.userConversations.toLocaleString('en')} user conversations, ${s.withUnread.toLocaleString('en')} with unread (seeded in ${s.seconds} s)`,
      table([
        ['unread query', 'requests', 'median ms', 'p99 ms', 'max ms', 'checked'],
        ...u.timings.map((t) => [
          t.label,
          String(t.requests),
          String(round1(t.medianMs)),
          String(round1(t.p99Ms)),
          String(round1(t.maxMs)),
          `${t.matched}/${t.checked}`,
        ]),
      ]),
      '',
    );
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
      `(quick profile: smaller data, ${r.profile.durationS} s baselines, ${r.profile.burstS} s burst, ${r.profile.sustainedS} s sustained steps; the SPEC figures are from the full profile)`,
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
