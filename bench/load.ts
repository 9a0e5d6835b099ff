import autocannon from 'autocannon';

export interface LoadResult {
  connections: number;
  durationS: number;
  /** 2xx answers per second: a fast 503 or 400 is not throughput. */
  rps: number;
  p50Ms: number;
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
 * One autocannon run in this process (HTTP/1.1 keep-alive, no pipelining, so each connection
 * has one request in flight and its context belongs to that request).
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
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
