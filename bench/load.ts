import http from 'node:http';
import autocannon from 'autocannon';
import { percentile } from './stats';

export interface LoadResult {
  connections: number;
  durationS: number;
  /** 2xx answers per second: a fast 503 or 400 is not throughput. */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Called once per request; context is per connection, so the answer can find its request. */
  setup?: (request: autocannon.Request, context: Record<string, unknown>) => autocannon.Request;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}

/**
 * One closed-loop autocannon run in this process (HTTP/1.1 keep-alive, no pipelining, so each
 * connection has one request in flight and its context belongs to that request).
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 30,
    method: options.method ?? 'GET',
    headers: options.headers,
    requests: [
      {
        setupRequest: options.setup as autocannon.Request['setupRequest'],
        onResponse: options.onResponse as autocannon.Request['onResponse'],
      },
    ],
  });
  return {
    connections: options.connections,
    durationS: result.duration,
    rps: Math.round(result['2xx'] / result.duration),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export interface OpenLoopResult {
  /** Requests per second offered: the schedule, whatever the server does. */
  offeredRps: number;
  durationS: number;
  /** Keep-alive connections the requests share (a request waits for a free one, on its clock). */
  connections: number;
  sent: number;
  /** 2xx answers per second over the run. */
  achievedRps: number;
  /** Latency from each request's scheduled time (not its send time) to its answer, 2xx only. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * p99 from the moment this process sent the request instead: when it is far below p99Ms, the
   * load generator itself ran late (e.g. descheduled on a busy machine), not only the target.
   */
  p99FromSendMs: number;
  /** Largest delay between a request's scheduled time and its sending. */
  maxSendDelayMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Scheduled but not sent because too many were outstanding: the target fell behind. */
  shed: number;
  /** Set when options.stop ended the schedule early: seconds after the start. */
  stoppedEarlyS?: number;
}

export interface OpenLoopRequest {
  path: string;
  body?: string;
  context?: unknown;
}

export interface OpenLoopOptions {
  url: string;
  ratePerS: number;
  durationS: number;
  connections?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  next: () => OpenLoopRequest;
  onResponse?: (status: number, body: string, context: unknown) => void;
  /** Outstanding requests past which scheduled ones are shed instead of queued (default 5 s worth). */
  maxOutstanding?: number;
  /** Checked before each send: true ends the schedule early (e.g. the measured step has failed). */
  stop?: () => boolean;
}

/**
 * An open loop: request i is due at start + i / rate, sent then whether or not earlier ones were
 * answered, and its latency runs from that due time, so a stall shows up in the percentiles
 * (no coordinated omission). autocannon's `overallRate` is not used for this: it lets each
 * connection send its per-second quota back to back at the top of every second and then idle
 * (autocannon 9, lib/httpClient.js), a closed-loop burst once a second rather than a steady rate.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const connections = options.connections ?? 50;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const maxOutstanding = options.maxOutstanding ?? Math.max(1000, options.ratePerS * 5);
  const latencies: number[] = [];
  const fromSend: number[] = [];
  let maxSendDelay = 0;
  const counts = { sent: 0, ok: 0, non2xx: 0, errors: 0, shed: 0, outstanding: 0 };
  let allAnswered: () => void = () => undefined;
  const answered = () => {
    counts.outstanding--;
    if (counts.outstanding === 0) {
      allAnswered();
    }
  };

  const send = (dueAt: number) => {
    const sentAt = performance.now();
    maxSendDelay = Math.max(maxSendDelay, sentAt - dueAt);
    const request = options.next();
    const headers: Record<string, string | number> = { ...options.headers };
    if (request.body !== undefined) {
      headers['content-length'] = Buffer.byteLength(request.body);
    }
    counts.sent++;
    counts.outstanding++;
    let done = false;
    const failed = () => {
      if (done) {
        return;
      }
      done = true;
      counts.errors++;
      answered();
    };
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: request.path,
        method: options.method ?? 'GET',
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (done) {
            return;
          }
          done = true;
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            counts.ok++;
            const now = performance.now();
            latencies.push(now - dueAt);
            fromSend.push(now - sentAt);
          } else {
            counts.non2xx++;
          }
          options.onResponse?.(status, Buffer.concat(chunks).toString('utf8'), request.context);
          answered();
        });
        res.on('error', failed);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', failed);
    req.end(request.body);
  };

  const start = performance.now();
  const total = Math.round(options.ratePerS * options.durationS);
  const interval = 1000 / options.ratePerS;
  let scheduled = 0;
  let stoppedEarlyS: number | undefined;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (options.stop?.()) {
        stoppedEarlyS = Math.round((now - start) / 100) / 10;
        return resolve();
      }
      while (scheduled < total && start + scheduled * interval <= now) {
        if (counts.outstanding >= maxOutstanding) {
          counts.shed++;
        } else {
          send(start + scheduled * interval);
        }
        scheduled++;
      }
      if (scheduled >= total) {
        resolve();
      } else {
        setTimeout(tick, Math.max(0, Math.min(1, start + scheduled * interval - now)));
      }
    };
    tick();
  });
  if (counts.outstanding > 0) {
    await new Promise<void>((resolve) => {
      allAnswered = resolve;
      setTimeout(resolve, 60_000);
    });
  }
  const elapsedS = (performance.now() - start) / 1000;
  const scheduledS = stoppedEarlyS ?? options.durationS;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  fromSend.sort((a, b) => a - b);
  const ms = (p: number) => Math.round(percentile(latencies, p) * 100) / 100;
  return {
    offeredRps: options.ratePerS,
    durationS: options.durationS,
    connections,
    sent: counts.sent,
    achievedRps: Math.round(counts.ok / Math.max(elapsedS, scheduledS)),
    p50Ms: ms(0.5),
    p90Ms: ms(0.9),
    p99Ms: ms(0.99),
    maxMs: latencies.length ? Math.round((latencies.at(-1) ?? 0) * 100) / 100 : NaN,
    p99FromSendMs: Math.round(percentile(fromSend, 0.99) * 100) / 100,
    maxSendDelayMs: Math.round(maxSendDelay * 100) / 100,
    ok: counts.ok,
    non2xx: counts.non2xx,
    errors: counts.errors,
    shed: counts.shed,
    ...(stoppedEarlyS === undefined ? {} : { stoppedEarlyS }),
  };
}
