import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { load, LoadResult } from './load';
import { BENCH_APP, Expectation, Payloads } from './payloads';
import { sampleRss } from './processes';
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
  /** Acked messages and receipts whose derived row is absent. */
  derivedMissing: number;
  pass: boolean;
}

export interface Ingest {
  runs: LoadResult[];
  peakRssMb: number;
  rssSamples: number;
  correctness: Correctness;
}

interface Acked {
  /** Stream positions of the 200 answers; bodies are rebuilt afterwards, not kept in memory. */
  indexes: number[];
  asDuplicate: number;
}

/** The service under the webhook mix at each concurrency, then the exactly-once check. */
export async function runIngest(
  sql: Client,
  service: Service,
  profile: Profile,
  log: (line: string) => void,
): Promise<Ingest> {
  const payloads = new Payloads(`svc-${Date.now()}`);
  const acked: Acked = { indexes: [], asDuplicate: 0 };
  const post = (connections: number, durationS: number) =>
    load({
      url: `${service.url}/webhooks/cometchat`,
      connections,
      durationS,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: service.webhookAuth },
      setup: (request, context) => {
        const payload = payloads.next();
        context.index = payload.index;
        return { ...request, body: payload.body };
      },
      onResponse: (status, body, context) => {
        if (status !== 200) {
          return;
        }
        acked.indexes.push(context.index as number);
        if (body.includes('"duplicate":true')) {
          acked.asDuplicate++;
        }
      },
    });

  const rss = sampleRss(service.child.pid);
  const runs: LoadResult[] = [];
  let memory: { peakMb: number; samples: number };
  try {
    await post(profile.baselineConnections, profile.warmupS);
    for (const connections of profile.ingestConnections) {
      await sql.query('CHECKPOINT');
      const result = await post(connections, profile.durationS);
      log(
        `ingest ${connections} conns: ${result.rps} req/s, p99 ${result.p99Ms} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
      );
      runs.push(result);
    }
  } finally {
    memory = rss.stop();
  }
  const correctness = await checkExactlyOnce(sql, payloads, acked);
  log(
    `exactly-once: sent ${correctness.sent}, acked ${correctness.acked}, stored ${correctness.stored}, missing ${correctness.missing}, duplicated ${correctness.duplicated}, derived missing ${correctness.derivedMissing}`,
  );
  return { runs, peakRssMb: memory.peakMb, rssSamples: memory.samples, correctness };
}

/** Every event answered 200 is in webhook_events exactly once, and its message or receipt row exists. */
async function checkExactlyOnce(
  sql: Client,
  payloads: Payloads,
  acked: Acked,
): Promise<Correctness> {
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
    derivedMissing: n('derived_missing'),
  };
  return {
    ...result,
    pass:
      result.acked > 0 &&
      result.missing === 0 &&
      result.duplicated === 0 &&
      result.derivedMissing === 0 &&
      result.ackedAsDuplicate === 0,
  };
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) {
    yield items.slice(i, i + size);
  }
}
