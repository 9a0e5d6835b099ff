// npm run simulate -- [--users 50] [--minutes 10] [--rate 5] [--history 24] [--url …] [--app …]
//
// Realistic CometChat traffic against a running service: first the last --history hours, stamped
// in the past and sent as fast as the service takes them (so the dashboard has a day of answers
// within seconds), then --minutes of live traffic at about --rate webhooks per second.
// Every time is derived from the simulated present (--now, default the wall clock) and the seed:
// the same seed and --now give the same webhooks, whenever and wherever it runs.
import { parseArgs } from 'node:util';
import { SimEvent, TrafficCounts, TrafficModel } from './traffic-model';
import { assertReachable, eachConcurrently, httpSink, Tally } from './webhook-sink';

export interface SimulateOptions {
  url: string;
  users: number;
  /** Live traffic after the history; 0 stops once the history is sent. */
  minutes: number;
  /** Webhooks per second in the live phase. */
  rate: number;
  /** Hours of past traffic sent first. */
  historyHours: number;
  appId: string;
  seed: number;
  /**
   * The simulated present (ms, default the wall clock, rounded down to a second): history is
   * stamped before it, live traffic after it, in step with the wall clock from then on.
   */
  now?: number;
  concurrency?: number;
  username?: string;
  password?: string;
  /** Called about once a second with the running numbers (a status line). */
  onProgress?: (status: SimulateStatus) => void;
  /** Stops the simulation early (Ctrl-C): what is in flight is still answered. */
  signal?: AbortSignal;
}

export interface SimulateStatus {
  phase: 'history' | 'live';
  sent: number;
  tally: Tally;
}

export interface SimulateSummary {
  sent: number;
  byTrigger: Record<string, number>;
  byFormat: Record<string, number>;
  model: TrafficCounts;
  tally: Tally;
  /** Users the simulated people really have online at the end (dropped connections excluded). */
  onlineAtEnd: number;
  /** The simulated present the run started from (ms). */
  now: number;
  elapsedMs: number;
  historyMs: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

export async function simulate(o: SimulateOptions): Promise<SimulateSummary> {
  const started = Date.now();
  const now = Math.floor((o.now ?? started) / 1000) * 1000;
  /** The simulated clock: `now` when the simulation started, then running with the wall clock. */
  const clock = () => now + (Date.now() - started);
  const end = now + o.minutes * 60_000;
  const model = new TrafficModel({
    appId: o.appId,
    users: o.users,
    start: now - o.historyHours * 3_600_000,
    liveFrom: now,
    end,
    rate: o.rate,
    seed: o.seed,
  });
  const sink = httpSink({ url: o.url, username: o.username, password: o.password });
  const tally = new Tally();
  const byTrigger: Record<string, number> = {};
  const byFormat: Record<string, number> = {};
  let sent = 0;
  let phase: SimulateStatus['phase'] = 'history';
  let historyMs = 0;
  const report = setInterval(() => o.onProgress?.({ phase, sent, tally }), 1000);

  // Past events go out at once; live ones when the simulated clock reaches their time.
  async function* schedule(): AsyncGenerator<SimEvent> {
    for (let event = model.next(); event !== undefined; event = model.next()) {
      if (o.signal?.aborted) {
        return;
      }
      // Stragglers and retries due after the end go out at the end rather than never.
      const wait = Math.min(event.sendAt, end) - clock();
      if (wait > 0) {
        if (phase === 'history') {
          phase = 'live';
          historyMs = Date.now() - started;
        }
        await sleep(wait, o.signal);
        if (o.signal?.aborted) {
          return;
        }
      }
      yield event;
    }
  }

  try {
    await eachConcurrently(schedule(), o.concurrency ?? 32, async (event) => {
      sent++;
      byTrigger[event.trigger] = (byTrigger[event.trigger] ?? 0) + 1;
      byFormat[event.format] = (byFormat[event.format] ?? 0) + 1;
      tally.add(await sink.send(Buffer.from(event.body, 'utf8'), event.contentType));
    });
  } finally {
    clearInterval(report);
    await sink.close();
  }
  if (phase === 'history') {
    historyMs = Date.now() - started;
  }
  return {
    sent,
    byTrigger,
    byFormat,
    model: model.counts,
    tally,
    onlineAtEnd: model.onlineAt(Math.min(clock(), end)).length,
    now,
    elapsedMs: Date.now() - started,
    historyMs,
  };
}

export function describe(o: SimulateOptions, s: SimulateSummary): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(' · ');
  const m = s.model;
  return [
    `Simulated app ${o.appId}: ${n(o.users)} users, ${o.historyHours} h of history before ${new Date(s.now).toISOString()} (sent in ${(s.historyMs / 1000).toFixed(1)} s), then ${o.minutes} min live at ~${o.rate}/s (seed ${o.seed})`,
    `Sent ${n(s.sent)} webhooks to ${o.url} in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    ...s.tally.lines(),
    `  by trigger: ${list(s.byTrigger)}`,
    `  by format:  ${list(s.byFormat)}`,
    `  people: ${n(m.connects)} connects, ${n(m.disconnects)} disconnects sent and ${n(m.disconnectsNeverSent)} never sent; ${n(s.onlineAtEnd)} really online at the end`,
    `  messages: ${n(m.messages)} (${n(m.groupMessages)} in groups); receipts: ${n(m.deliveryReceipts)} delivered, ${n(m.readReceipts)} read, ${n(m.readsLeftImplied)} reads left for CometChat to imply`,
    `  the wire: ${n(m.retries)} retries (same bytes), ${n(m.outOfOrder)} sent late (out of order), ${n(m.broken)} broken bodies`,
  ].join('\n');
}

// --- command line -------------------------------------------------------------------------

const USAGE = `Usage: npm run simulate -- [options]

  --users N       simulated people (default 50)
  --minutes M     live traffic after the history, in minutes; 0 = history only (default 10)
  --rate R        webhooks per second in the live phase (default 5)
  --history H     hours of past traffic sent first, stamped in the past (default 24)
  --url URL       the service (default http://localhost:$PORT, PORT=3000)
  --app ID        the CometChat appId to use (default sim-app)
  --seed S        reproduce a run (default: random, printed in the summary)
  --now TIME      the simulated present, ISO-8601 or Unix ms (default: the wall clock); the same
                  --seed and --now give the same webhooks at any hour
  --concurrency N webhooks in flight at once (default 32)
  --username U --password P   webhook Basic auth (default WEBHOOK_USERNAME / WEBHOOK_PASSWORD)`;

function number(name: string, value: string, min: number, integer = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} ≥ ${min}`);
  }
  return n;
}

function instant(name: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new Error(`--${name} must be an ISO-8601 time or Unix milliseconds`);
  }
  return ms;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '50' },
      minutes: { type: 'string', default: '10' },
      rate: { type: 'string', default: '5' },
      history: { type: 'string', default: '24' },
      url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 3000}` },
      app: { type: 'string', default: 'sim-app' },
      seed: { type: 'string' },
      now: { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      username: { type: 'string', default: process.env.WEBHOOK_USERNAME },
      password: { type: 'string', default: process.env.WEBHOOK_PASSWORD },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const options: SimulateOptions = {
    url: values.url,
    users: number('users', values.users, 1, true),
    minutes: number('minutes', values.minutes, 0),
    rate: number('rate', values.rate, 0.1),
    historyHours: number('history', values.history, 0),
    appId: values.app,
    seed:
      values.seed === undefined
        ? Math.floor(Math.random() * 2 ** 31)
        : number('seed', values.seed, 0, true),
    concurrency: number('concurrency', values.concurrency, 1, true),
    ...(values.now === undefined ? {} : { now: instant('now', values.now) }),
    ...(values.username && values.password
      ? { username: values.username, password: values.password }
      : {}),
    signal: abort.signal,
    onProgress: process.stderr.isTTY
      ? ({ phase, sent, tally }) =>
          process.stderr.write(
            `\r\x1b[K${phase}: ${sent} sent · ${tally.counts.stored} stored, ${tally.counts.duplicate} duplicate, ${tally.counts.rejected} rejected, ${tally.counts.failed} failed${phase === 'live' ? ' · Ctrl-C stops' : ''}`,
          )
      : undefined,
  };
  await assertReachable(options.url);
  const summary = await simulate(options);
  if (process.stderr.isTTY) {
    process.stderr.write('\r\x1b[K');
  }
  console.log(describe(options, summary));
  console.log(`\nOpen ${options.url} for the dashboard.`);
  return summary.tally.counts.failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
