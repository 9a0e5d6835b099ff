import { Client } from 'pg';
import { load, LoadResult, openLoop, OpenLoopResult } from './load';
import { Profile } from './profile';
import { QUERY_APP, Seeded, uidOf } from './seed';
import { Service } from './service';
import { median } from './stats';

/** A stage that could not be measured, and why (e.g. the endpoint does not exist yet). */
export type Unavailable = { unavailable: string };

export interface LatencyTiming {
  kind: 'read' | 'delivery';
  days: number;
  medianMs: number;
  maxMs: number;
  timingsMs: number[];
  count: number;
  approximate: boolean;
  /** Largest relative error of p50/p90/p95/p99 against percentile_cont on the same rows. */
  maxRelativeError: number;
  countMatches: boolean;
}

export interface Queries {
  /** Closed loop at the profile's presence connections. */
  presence: LoadResult | Unavailable;
  /** The same closed loop with `Prefer: wait=0` (no read-your-writes check): what that check costs. */
  presenceNoWait?: LoadResult;
  /** Open loop at the profile's presence rate. */
  presenceLatency: OpenLoopResult | Unavailable;
  latency: (LatencyTiming | (Unavailable & { kind: string; days: number }))[];
}

/** GET presence of random seeded users under load, then latency percentiles window by window. */
export async function runQueries(
  sql: Client,
  service: Service,
  seeded: Seeded,
  profile: Profile,
  log: (line: string) => void,
): Promise<Queries> {
  const headers = { authorization: service.apiAuth };
  const presencePath = (uid: string) =>
    `/users/${encodeURIComponent(uid)}/presence?appId=${QUERY_APP}`;

  let presence: LoadResult | Unavailable;
  let presenceLatency: OpenLoopResult | Unavailable;
  let presenceNoWait: LoadResult | undefined;
  const probe = await fetch(service.url + presencePath(uidOf(0)), { headers });
  const probeBody = await probe.text();
  if (probe.status !== 200) {
    presence = {
      unavailable: isMissingRoute(probe.status, probeBody)
        ? 'GET /users/:uid/presence: endpoint missing'
        : `GET /users/:uid/presence answered ${probe.status}: ${probeBody.slice(0, 200)}`,
    };
    log(presence.unavailable);
    presenceLatency = presence;
  } else {
    const random = () => uidOf(Math.floor(Math.random() * seeded.users));
    const get = (durationS: number, extra: Record<string, string> = {}) =>
      load({
        url: service.url,
        connections: profile.presenceConnections,
        durationS,
        headers: { ...headers, ...extra },
        setup: (request) => ({ ...request, path: presencePath(random()) }),
      });
    await get(profile.warmupS);
    presence = await get(profile.presenceDurationS);
    log(
      `presence: ${presence.rps} req/s, p50 ${presence.p50Ms} ms, p99 ${presence.p99Ms} ms, non-2xx ${presence.non2xx}`,
    );
    presenceNoWait = await get(profile.presenceDurationS, { prefer: 'wait=0' });
    log(
      `presence with Prefer: wait=0: ${presenceNoWait.rps} req/s, p50 ${presenceNoWait.p50Ms} ms, p99 ${presenceNoWait.p99Ms} ms`,
    );
    presenceLatency = await openLoop({
      url: service.url,
      ratePerS: profile.presenceRate,
      durationS: profile.presenceRateS,
      connections: profile.presenceConnections,
      headers,
      next: () => ({ path: presencePath(random()) }),
    });
    log(
      `presence at ${profile.presenceRate}/s offered: p50 ${presenceLatency.p50Ms} ms, p90 ${presenceLatency.p90Ms} ms, p99 ${presenceLatency.p99Ms} ms, non-2xx ${presenceLatency.non2xx}, shed ${presenceLatency.shed}`,
    );
  }

  const latency: Queries['latency'] = [];
  for (const kind of ['read', 'delivery'] as const) {
    for (const days of profile.latencyWindowsDays) {
      const result = await timeLatency(sql, service, seeded, profile, kind, days);
      latency.push(result);
      log(
        'unavailable' in result
          ? result.unavailable
          : `${kind}-latency ${days} d: median ${result.medianMs} ms, max ${result.maxMs} ms over ${result.count} receipts, error ${(result.maxRelativeError * 100).toFixed(2)}%`,
      );
    }
  }
  return { presence, presenceNoWait, presenceLatency, latency };
}

interface LatencyAnswer {
  count: number;
  approximate?: boolean;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** Sequential requests (one warm-up, then the timed ones) and the exact answer to compare with. */
async function timeLatency(
  sql: Client,
  service: Service,
  seeded: Seeded,
  profile: Profile,
  kind: 'read' | 'delivery',
  days: number,
): Promise<LatencyTiming | (Unavailable & { kind: string; days: number })> {
  const from = new Date(seeded.to.getTime() - days * 86_400_000);
  const url = `${service.url}/analytics/${kind}-latency?appId=${QUERY_APP}&from=${from.toISOString()}&to=${seeded.to.toISOString()}`;
  const get = async () => {
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: service.apiAuth } });
    const body = await response.text();
    return { ms: performance.now() - started, status: response.status, body };
  };

  const first = await get();
  if (first.status !== 200) {
    const unavailable = isMissingRoute(first.status, first.body)
      ? `GET /analytics/${kind}-latency: endpoint missing`
      : `GET /analytics/${kind}-latency answered ${first.status}: ${first.body.slice(0, 200)}`;
    return { kind, days, unavailable };
  }
  const timingsMs: number[] = [];
  let answer = JSON.parse(first.body) as LatencyAnswer;
  for (let i = 0; i < profile.latencyRepetitions; i++) {
    const r = await get();
    if (r.status !== 200) {
      throw new Error(`${url} answered ${r.status}: ${r.body}`);
    }
    timingsMs.push(Math.round(r.ms * 10) / 10);
    answer = JSON.parse(r.body) as LatencyAnswer;
  }

  const exact = await sql.query<{ count: string; p: number[] }>(
    `SELECT count(latency_ms) AS count,
            percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) AS p
       FROM receipts WHERE app_id = $1 AND kind = $2 AND at >= $3 AND at < $4`,
    [QUERY_APP, kind === 'read' ? 'read' : 'delivered', from, seeded.to],
  );
  const served = [answer.p50Ms, answer.p90Ms, answer.p95Ms, answer.p99Ms];
  // One millisecond of slack for the answer's rounding to whole milliseconds.
  const errors = exact.rows[0].p.map((p, i) =>
    served[i] === null ? 1 : Math.max(0, Math.abs(served[i] - p) - 1) / Math.max(p, 1),
  );
  return {
    kind,
    days,
    medianMs: median(timingsMs),
    maxMs: Math.max(...timingsMs),
    timingsMs,
    count: answer.count,
    approximate: answer.approximate === true,
    maxRelativeError: Math.max(...errors),
    countMatches: answer.count === Number(exact.rows[0].count),
  };
}

/** A 404 from the router (no such route), as opposed to the endpoint's own 404 for an unknown id. */
function isMissingRoute(status: number, body: string): boolean {
  return status === 404 && /Cannot GET|Route GET/.test(body);
}
