// Where the replay tool and the simulator send webhook bodies: the service over HTTP, exactly as
// CometChat would, or (replay --direct) the app's own WebhooksService in a Nest application
// context on the database, with no HTTP server. Both answer the same Delivery.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { SingleBar } from 'cli-progress';

export type Outcome = 'stored' | 'duplicate' | 'accepted' | 'rejected' | 'failed';

export interface Delivery {
  outcome: Outcome;
  /** rejected / failed: why, as the service said it. */
  reason?: string;
  field?: string;
  /** rejected: the rejected_events row the service kept. */
  rejectedId?: string;
}

export interface WebhookSink {
  readonly description: string;
  send(body: Buffer, contentType: string): Promise<Delivery>;
  close(): Promise<void>;
}

export interface HttpSinkOptions {
  url: string;
  /** Basic auth, when the service has WEBHOOK_USERNAME / WEBHOOK_PASSWORD set. */
  username?: string;
  password?: string;
  /** Tries for a 503 (database down, queue full) or a refused connection, as CometChat retries. */
  attempts?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the service's JSON answer into a Delivery. */
function fromAnswer(status: number, answer: Record<string, unknown> | null): Delivery {
  if (status === 200) {
    if (answer && typeof answer.eventId === 'string') {
      return { outcome: answer.duplicate === true ? 'duplicate' : 'stored' };
    }
    return { outcome: 'accepted' }; // before_message: answered {}
  }
  const message = typeof answer?.message === 'string' ? answer.message : `HTTP ${status}`;
  if (status === 400) {
    return {
      outcome: 'rejected',
      reason: message,
      field: typeof answer?.field === 'string' ? answer.field : undefined,
      rejectedId: typeof answer?.rejectedId === 'string' ? answer.rejectedId : undefined,
    };
  }
  return { outcome: 'failed', reason: `HTTP ${status}: ${message}` };
}

export function httpSink(options: HttpSinkOptions): WebhookSink {
  const endpoint = new URL('/webhooks/cometchat', options.url).toString();
  const auth =
    options.username !== undefined && options.password !== undefined
      ? `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
      : undefined;
  const attempts = options.attempts ?? 5;
  return {
    description: `HTTP to ${endpoint}`,
    async send(body, contentType) {
      for (let attempt = 1; ; attempt++) {
        let status: number;
        let answer: Record<string, unknown> | null;
        let retryAfterMs = 1000 * attempt;
        try {
          const response = await fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': contentType, ...(auth ? { authorization: auth } : {}) },
            body: new Uint8Array(body),
          });
          status = response.status;
          answer = (await response.json().catch(() => null)) as Record<string, unknown> | null;
          const retryAfter = Number(response.headers.get('retry-after'));
          if (retryAfter > 0) {
            retryAfterMs = Math.min(retryAfter, 5) * 1000;
          }
        } catch (error) {
          if (attempt >= attempts) {
            return { outcome: 'failed', reason: `cannot reach ${endpoint}: ${causeOf(error)}` };
          }
          await sleep(retryAfterMs);
          continue;
        }
        if (status !== 503 || attempt >= attempts) {
          return fromAnswer(status, answer);
        }
        await sleep(retryAfterMs);
      }
    },
    close: () => Promise.resolve(),
  };
}

/** Fails fast, with the fix, when nothing answers at the service's address. */
export async function assertReachable(url: string): Promise<void> {
  try {
    await fetch(new URL('/health/live', url));
  } catch (error) {
    throw new Error(
      `Nothing answers at ${url} (${causeOf(error)}). Start the service first (npm start), or pass --url.`,
      { cause: error },
    );
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export interface DirectSinkOptions {
  /** The database to write to; by default the service's own (DATABASE_URL, else embedded). */
  databaseUrl?: string;
}

/**
 * The app's own ingest path (WebhooksService.receive: parse, check, group-commit writer) in a Nest
 * application context, so a backfill is validated and deduplicated exactly like a webhook.
 */
export async function directSink(
  options: DirectSinkOptions = {},
): Promise<WebhookSink & { url: string }> {
  ensurePrismaClient();
  const [{ NestFactory }, { BadRequestException }, { AppModule }, cfg, db, ws] = await Promise.all([
    import('@nestjs/core'),
    import('@nestjs/common'),
    import('../src/app.module'),
    import('../src/config/app-config'),
    import('../src/db/database'),
    import('../src/webhooks/webhooks.service'),
  ]);
  const derivation = await import('../src/ingest/derivation-runner.service');
  const config = cfg.loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const database = options.databaseUrl
    ? { url: options.databaseUrl, close: () => undefined }
    : db.openDatabase(config);
  try {
    if (!options.databaseUrl && config.RUN_MIGRATIONS) {
      await db.applyMigrations(database.url);
    }
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot(config, database.url),
      { logger: ['error', 'warn'] },
    );
    const service = app.get(ws.WebhooksService);
    return {
      url: database.url,
      description: `directly to the database (${redact(database.url)})`,
      async send(body, contentType) {
        try {
          const answer = await service.receive(body, contentType);
          return fromAnswer(200, answer);
        } catch (error) {
          if (error instanceof BadRequestException) {
            return fromAnswer(400, error.getResponse() as Record<string, unknown>);
          }
          return { outcome: 'failed', reason: (error as Error).message };
        }
      },
      async close() {
        // Derive what was written before the context (and its background runner) stops.
        await app.get(derivation.DerivationRunner).drain();
        await app.close();
        database.close();
      },
    };
  } catch (error) {
    database.close();
    throw error;
  }
}

const ROOT = path.resolve(__dirname, '..');

/** The generated Prisma client is not committed; `npm start` makes it, and so does this. */
export function ensurePrismaClient(): void {
  if (existsSync(path.join(ROOT, 'src', 'generated', 'prisma', 'client.ts'))) {
    return;
  }
  execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '***';
    }
    return u.toString();
  } catch {
    return url;
  }
}

/** Runs `work` over `items` with at most `concurrency` at once, in the order they come. */
export async function eachConcurrently<T>(
  items: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items) {
    const task: Promise<void> = work(item).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) {
      await Promise.race(running);
    }
  }
  await Promise.all(running);
}

/** Counts of outcomes, with the reasons of rejections and failures grouped. */
export class Tally {
  readonly counts: Record<Outcome, number> = {
    stored: 0,
    duplicate: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
  };
  readonly reasons = new Map<string, number>();

  add(delivery: Delivery): void {
    this.counts[delivery.outcome]++;
    if (delivery.reason !== undefined) {
      const key = `${delivery.outcome}: ${delivery.reason.slice(0, 160)}`;
      this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
    }
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  lines(): string[] {
    const n = (v: number) => v.toLocaleString('en-US').padStart(9);
    const lines = [
      `  stored     ${n(this.counts.stored)}`,
      `  duplicate  ${n(this.counts.duplicate)}   (already stored: same bytes or same message/receipt/connection)`,
    ];
    if (this.counts.accepted > 0) {
      lines.push(
        `  accepted   ${n(this.counts.accepted)}   (before_message, answered {}: kept once, new or not)`,
      );
    }
    lines.push(`  rejected   ${n(this.counts.rejected)}`);
    lines.push(...this.reasonLines('rejected'));
    lines.push(`  failed     ${n(this.counts.failed)}`);
    lines.push(...this.reasonLines('failed'));
    return lines;
  }

  private reasonLines(outcome: Outcome): string[] {
    return [...this.reasons]
      .filter(([key]) => key.startsWith(`${outcome}: `))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([key, count]) => `      ${count} × ${key.slice(outcome.length + 2)}`);
  }
}

/** A progress bar on stderr when it is a terminal; nothing otherwise (CI logs, pipes). */
export function progressBar(
  label: string,
  total: number,
  tally: Tally,
): { tick(): void; stop(): void } {
  if (!process.stderr.isTTY) {
    return { tick: () => undefined, stop: () => undefined };
  }
  const bar = new SingleBar({
    format: `${label} |{bar}| {percentage}% {value}/{total} · {stored} stored, {duplicate} duplicate, {rejected} rejected, {failed} failed · {eta_formatted} left`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 200,
  });
  bar.start(total, 0, tally.counts);
  return {
    tick: () => bar.increment(1, tally.counts),
    stop: () => bar.stop(),
  };
}
