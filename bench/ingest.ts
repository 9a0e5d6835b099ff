import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { Baselines } from './baselines';
import { load, LoadResult, openLoop, OpenLoopResult } from './load';
import { BENCH_APP, Expectation, Payloads } from './payloads';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_DIR } from './cluster';
import { cpuSeconds, sampleRss, treeCpuSeconds } from './processes';
import { Profile } from './profile';
import { Service } from './service';

export interface Correctness {
  sent: number;
  acked: number;
  /** Acked with "duplicate": true although every body was new: should be 0. */
  ackedAsDuplicate: number;
  /** Raw events of the bench app in webhook_events (acked ones plus any still in flight at a run's end). */
  stored: number;
  missing: number;
  duplicated: number;
  /** Derivation backlog when the check ran (it waits for 0 first); -1 if it never drained. */
  backlogAtCheck: number;
  /** Events whose derivation failed (derivation_failures). */
  derivationFailed: number;
  /** Acked messages and receipts whose derived row is absent once the backlog drained. */
  derivedMissing: number;
  pass: boolean;
}

export interface DerivationStatus {
  backlog: number;
  lagS: number;
}

export interface SustainedStep {
  fraction: number;
  run: OpenLoopResult;
  /** Largest derivation lag sampled (once a second) while the rate was offered. */
  maxLagS: number;
  maxBacklog: number;
  lagSamples: number;
  pass: boolean;
  /** Why the step failed, or stopped early. */
  verdict: string;
  /** Seconds the backlog took to drain after the step. */
  drainedS: number | null;
}

export interface Sustained {
  /** What the fractions are of: pgbench's tps (or the batched baseline's req/s without pgbench). */
  base: { name: string; rps: number };
  lagLimitS: number;
  stepS: number;
  steps: SustainedStep[];
  /** Highest offered rate that passed, and its ratio to the base. */
  highestRps: number | null;
  highestRatio: number | null;
}

export interface Drain {
  /** The closed-loop burst it follows. */
  burstS: number;
  backlogAtEnd: number;
  lagAtEndS: number;
  /** From the burst's end to an empty derivation queue; null if it did not drain in time. */
  seconds: number | null;
  eventsPerS: number | null;
}

/** Where the burst's CPU went: core-seconds used during it, and per 1,000 acks. */
export interface CpuSplit {
  seconds: number;
  acks: number;
  /** The service's Node process (acks and the derivation running beside them). */
  serviceCoreS: number;
  /** PostgreSQL: the postmaster and its backends. */
  postgresCoreS: number;
  /** This process: the load generator. */
  loadGeneratorCoreS: number;
  /** Core-seconds the machine had in that time (cores × seconds), shared with anything else running. */
  machineCoreS: number;
  serviceMsPerAck: number;
  postgresMsPerAck: number;
}

export interface Ingest {
  /** Closed loop at burstConnections for burstS: the ack throughput. */
  burst: LoadResult;
  burstCpu: CpuSplit;
  /** Open loop at the profile's ackRate: ack latency. */
  ackLatency: OpenLoopResult;
  sustained: Sustained;
  drain: Drain;
  peakRssMb: number;
  rssSamples: number;
  correctness: Correctness;
}

interface Acked {
  /** Stream positions of the 200 answers; bodies are rebuilt afterwards, not kept in memory. */
  indexes: number[];
  asDuplicate: number;
}

/**
 * The service under the webhook mix: ack latency at a fixed offered rate, the sustained rate
 * derivation keeps up with, a closed-loop burst and how long its backlog takes to drain, then
 * the exactly-once check once derivation has caught up.
 */
export async function runIngest(
  sql: Client,
  service: Service,
  profile: Profile,
  baselines: Baselines | undefined,
  log: (line: string) => void,
): Promise<Ingest> {
  const payloads = new Payloads(`svc-${Date.now()}`);
  const acked: Acked = { indexes: [], asDuplicate: 0 };
  const headers = { 'content-type': 'application/json', authorization: service.webhookAuth };
  const ack = (status: number, body: string, index: number) => {
    if (status !== 200) {
      return;
    }
    acked.indexes.push(index);
    if (body.includes('"duplicate":true')) {
      acked.asDuplicate++;
    }
  };
  const post = (connections: number, durationS: number) =>
    load({
      url: `${service.url}/webhooks/cometchat`,
      connections,
      durationS,
      method: 'POST',
      headers,
      setup: (request, context) => {
        const payload = payloads.next();
        context.index = payload.index;
        return { ...request, body: payload.body };
      },
      onResponse: (status, body, context) => ack(status, body, context.index as number),
    });
  const offer = (ratePerS: number, durationS: number, stop?: () => boolean) =>
    openLoop({
      url: service.url,
      ratePerS,
      durationS,
      connections: profile.burstConnections,
      method: 'POST',
      headers,
      next: () => {
        const payload = payloads.next();
        return { path: '/webhooks/cometchat', body: payload.body, context: payload.index };
      },
      onResponse: (status, body, context) => ack(status, body, context as number),
      stop,
    });
  const drain = async () => {
    const started = performance.now();
    const drained = await waitForDrain(sql, profile.drainTimeoutS);
    return drained ? Math.round((performance.now() - started) / 100) / 10 : null;
  };

  const rss = sampleRss(service.child.pid);
  let memory: { peakMb: number; samples: number };
  let burst: LoadResult;
  let burstCpu: CpuSplit;
  let ackLatency: OpenLoopResult;
  let sustained: Sustained;
  let drained: Drain;
  try {
    await post(profile.burstConnections, profile.warmupS);
    await drain();

    // Ack latency at a fixed offered rate.
    await sql.query('CHECKPOINT');
    ackLatency = await offer(profile.ackRate, profile.ackRateS);
    log(
      `ack latency at ${profile.ackRate}/s offered: p50 ${ackLatency.p50Ms} ms, p90 ${ackLatency.p90Ms} ms, p99 ${ackLatency.p99Ms} ms, ${ackLatency.achievedRps} acks/s, non-2xx ${ackLatency.non2xx}, errors ${ackLatency.errors}, shed ${ackLatency.shed}`,
    );
    await drain();

    // Sustained: step the offered rate up until derived state falls more than the limit behind.
    const base =
      baselines && 'tps' in baselines.pgbench
        ? { name: 'pgbench', rps: baselines.pgbench.tps }
        : { name: 'batched raw insert', rps: baselines?.pgBatch.rps ?? 2000 };
    sustained = {
      base,
      lagLimitS: profile.sustainedLagS,
      stepS: profile.sustainedS,
      steps: [],
      highestRps: null,
      highestRatio: null,
    };
    const fractions = [...profile.sustainedFractions];
    for (let i = 0; i < fractions.length; i++) {
      const fraction = fractions[i];
      const step = await sustain(sql, fraction, Math.round(fraction * base.rps), profile, offer);
      step.drainedS = await drain();
      sustained.steps.push(step);
      log(
        `sustained ${fraction}× ${base.name} = ${step.run.offeredRps}/s offered: ${step.run.achievedRps} acks/s, max lag ${step.maxLagS} s, max backlog ${step.maxBacklog}: ${step.pass ? 'pass' : 'FAIL'} (${step.verdict}), drained in ${step.drainedS ?? 'timeout'} s`,
      );
      if (step.pass) {
        sustained.highestRps = step.run.offeredRps;
        sustained.highestRatio = Math.round((step.run.offeredRps / base.rps) * 100) / 100;
      } else if (sustained.highestRps === null && fraction > 0.1) {
        // Even the first step failed: try one lower rate instead of the rest.
        fractions.splice(i + 1, fractions.length, 0.1);
      } else {
        break;
      }
    }

    // Burst: acks at full speed in a closed loop, then how long derivation takes to catch up.
    await sql.query('CHECKPOINT');
    const cpu = startCpuSplit(service.child.pid);
    burst = await post(profile.burstConnections, profile.burstS);
    burstCpu = cpu.stop(burst.ok);
    const atEnd = await derivationStatus(sql);
    const seconds = await drain();
    drained = {
      burstS: profile.burstS,
      backlogAtEnd: atEnd.backlog,
      lagAtEndS: atEnd.lagS,
      seconds,
      eventsPerS: seconds ? Math.round(atEnd.backlog / seconds) : null,
    };
    log(
      `burst ${profile.burstConnections} conns ${profile.burstS} s: ${burst.rps} acks/s, p50 ${burst.p50Ms} ms, p99 ${burst.p99Ms} ms, non-2xx ${burst.non2xx}, errors ${burst.errors}; backlog ${atEnd.backlog} (lag ${atEnd.lagS} s) drained in ${seconds ?? 'timeout'} s`,
    );
  } finally {
    memory = rss.stop();
  }
  const correctness = await checkExactlyOnce(sql, payloads, acked, profile);
  log(
    `exactly-once: sent ${correctness.sent}, acked ${correctness.acked}, stored ${correctness.stored}, missing ${correctness.missing}, duplicated ${correctness.duplicated}, derived missing ${correctness.derivedMissing} (backlog ${correctness.backlogAtCheck}, failed ${correctness.derivationFailed})`,
  );
  log(
    `burst CPU: service ${burstCpu.serviceCoreS} core-s (${burstCpu.serviceMsPerAck} ms/ack), PostgreSQL ${burstCpu.postgresCoreS} core-s (${burstCpu.postgresMsPerAck} ms/ack), load generator ${burstCpu.loadGeneratorCoreS} core-s, of ${burstCpu.machineCoreS} core-s`,
  );
  return {
    burst,
    burstCpu,
    ackLatency,
    sustained,
    drain: drained,
    peakRssMb: memory.peakMb,
    rssSamples: memory.samples,
    correctness,
  };
}

/**
 * One sustained step: the rate offered for the profile's step length while the derivation lag is
 * sampled once a second; it stops early once the lag is past the limit (the step has failed).
 */
async function sustain(
  sql: Client,
  fraction: number,
  rate: number,
  profile: Profile,
  offer: (rate: number, durationS: number, stop?: () => boolean) => Promise<OpenLoopResult>,
): Promise<SustainedStep> {
  await sql.query('CHECKPOINT');
  const samples: DerivationStatus[] = [];
  let busy = false;
  let over = false;
  const timer = setInterval(() => {
    if (busy) {
      return;
    }
    busy = true;
    void derivationStatus(sql)
      .then((s) => {
        samples.push(s);
        if (s.lagS >= profile.sustainedLagS) {
          over = true;
        }
      })
      .finally(() => (busy = false));
  }, 1000);
  let run: OpenLoopResult;
  try {
    run = await offer(rate, profile.sustainedS, () => over);
  } finally {
    clearInterval(timer);
  }
  const last = await derivationStatus(sql);
  samples.push(last);
  const maxLagS = Math.max(...samples.map((s) => s.lagS));
  const maxBacklog = Math.max(...samples.map((s) => s.backlog));
  const failures: string[] = [];
  if (maxLagS >= profile.sustainedLagS) {
    failures.push(
      `lag ${maxLagS} s ≥ ${profile.sustainedLagS} s${run.stoppedEarlyS !== undefined ? ` after ${run.stoppedEarlyS} s` : ''}`,
    );
  }
  if (run.non2xx + run.errors > 0) {
    failures.push(`${run.non2xx + run.errors} failed requests`);
  }
  if (run.shed > 0) {
    failures.push(`${run.shed} requests shed (acks fell behind)`);
  }
  if (run.stoppedEarlyS === undefined && run.ok < run.sent * 0.99) {
    failures.push(`only ${run.ok} of ${run.sent} acked`);
  }
  return {
    fraction,
    run,
    maxLagS,
    maxBacklog,
    lagSamples: samples.length,
    pass: failures.length === 0,
    verdict:
      failures.length === 0 ? `lag < ${profile.sustainedLagS} s throughout` : failures.join(', '),
    drainedS: null,
  };
}

function startCpuSplit(servicePid: number): { stop(acks: number): CpuSplit } {
  const postmaster = Number(
    fs.readFileSync(path.join(DATA_DIR, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const read = () => ({
    at: performance.now(),
    service: cpuSeconds(servicePid),
    postgres: treeCpuSeconds(postmaster),
    self: process.cpuUsage(),
  });
  const before = read();
  return {
    stop(acks) {
      const after = read();
      const self = process.cpuUsage(before.self);
      const seconds = (after.at - before.at) / 1000;
      const r2 = (x: number) => Math.round(x * 100) / 100;
      const serviceCoreS = r2(after.service - before.service);
      const postgresCoreS = r2(after.postgres - before.postgres);
      return {
        seconds: r2(seconds),
        acks,
        serviceCoreS,
        postgresCoreS,
        loadGeneratorCoreS: r2((self.user + self.system) / 1e6),
        machineCoreS: r2(seconds * os.cpus().length),
        serviceMsPerAck: Math.round((serviceCoreS / Math.max(acks, 1)) * 1e6) / 1000,
        postgresMsPerAck: Math.round((postgresCoreS / Math.max(acks, 1)) * 1e6) / 1000,
      };
    },
  };
}

/** Events committed but not yet derived, and the age of the oldest (0 when none). */
export async function derivationStatus(sql: Client): Promise<DerivationStatus> {
  const { rows } = await sql.query<{ backlog: number; lag: number }>(
    `SELECT count(*)::int AS backlog,
            COALESCE(extract(epoch FROM clock_timestamp() - min(received_at)), 0)::float8 AS lag
       FROM derivation_queue`,
  );
  return { backlog: rows[0].backlog, lagS: Math.round(rows[0].lag * 100) / 100 };
}

/** Polls until the derivation queue is empty; false if it is not within timeoutS. */
export async function waitForDrain(sql: Client, timeoutS: number): Promise<boolean> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const { backlog } = await derivationStatus(sql);
    if (backlog === 0) {
      return true;
    }
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every event answered 200 is in webhook_events exactly once, and its message or receipt row exists. */
async function checkExactlyOnce(
  sql: Client,
  payloads: Payloads,
  acked: Acked,
  profile: Profile,
): Promise<Correctness> {
  // Derived rows are written in the background: check them once derivation has caught up.
  const drained = await waitForDrain(sql, profile.drainTimeoutS);
  const backlogAtCheck = drained ? 0 : -1;
  const failures = await sql.query<{ n: string }>(
    'SELECT count(*) AS n FROM derivation_failures WHERE app_id = $1',
    [BENCH_APP],
  );
  const derivationFailed = Number(failures.rows[0].n);
  const sha256: string[] = [];
  const expectations: Expectation[] = [];
  for (const index of acked.indexes) {
    const payload = payloads.at(index);
    sha256.push(createHash('sha256').update(payload.body).digest('hex'));
    if (payload.expect) {
      expectations.push(payload.expect);
    }
  }
  await sql.query('CREATE TEMP TABLE acked (sha256 bytea NOT NULL)');
  await sql.query('CREATE TEMP TABLE acked_rows (tbl text, id text, reader text, kind text)');
  for (const chunk of chunks(sha256, 50_000)) {
    await sql.query(`INSERT INTO acked SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h`, [
      chunk,
    ]);
  }
  for (const chunk of chunks(expectations, 50_000)) {
    await sql.query(
      `INSERT INTO acked_rows SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [
        chunk.map((e) => e.table),
        chunk.map((e) => (e.table === 'messages' ? e.id : e.messageId)),
        chunk.map((e) => (e.table === 'receipts' ? e.reader : null)),
        chunk.map((e) => (e.table === 'receipts' ? e.kind : null)),
      ],
    );
  }
  const { rows } = await sql.query<Record<string, string>>(
    `SELECT
       (SELECT count(*) FROM webhook_events WHERE app_id = $1) AS stored,
       count(*) FILTER (WHERE n = 0) AS missing,
       count(*) FILTER (WHERE n > 1) AS duplicated,
       (SELECT count(*) FROM acked_rows r
         WHERE NOT EXISTS (
           SELECT 1 FROM messages m WHERE r.tbl = 'messages' AND m.app_id = $1 AND m.id = r.id
           UNION ALL
           SELECT 1 FROM receipts c WHERE r.tbl = 'receipts' AND c.app_id = $1 AND c.message_id = r.id
              AND c.reader = r.reader AND c.kind = r.kind)) AS derived_missing
       FROM (SELECT (SELECT count(*) FROM webhook_events w
                      WHERE w.app_id = $1 AND w.body_sha256 = a.sha256) AS n
               FROM acked a) x`,
    [BENCH_APP],
  );
  const n = (key: string) => Number(rows[0][key]);
  const result = {
    sent: payloads.sent,
    acked: acked.indexes.length,
    ackedAsDuplicate: acked.asDuplicate,
    stored: n('stored'),
    missing: n('missing'),
    duplicated: n('duplicated'),
    backlogAtCheck,
    derivationFailed,
    derivedMissing: n('derived_missing'),
  };
  return {
    ...result,
    pass:
      result.acked > 0 &&
      result.missing === 0 &&
      result.duplicated === 0 &&
      result.derivedMissing === 0 &&
      result.backlogAtCheck === 0 &&
      result.ackedAsDuplicate === 0,
  };
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) {
    yield items.slice(i, i + size);
  }
}
