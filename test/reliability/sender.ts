import http from 'node:http';
import { OutgoingEvent } from './events';

/** One request and how it ended: an HTTP status, or the socket error that ended it. */
export interface Attempt {
  rid: string;
  startedAt: number;
  endedAt: number;
  status: number | null;
  error: string | null;
  /** From the 200's body; before_message answers `{}`, so neither is known for those. */
  eventId: string | null;
  duplicate: boolean;
}

export interface SenderOptions {
  url: string;
  authorization: string;
  /** Requests in flight at once (CometChat opens several connections). */
  concurrency: number;
  /** New events per second while the stream runs. */
  rate: number;
  /** First retry delay, doubling up to 8×: CometChat's 10 s and 30 s, compressed. */
  retryDelayMs: number;
  /** A request with no answer after this long is given up and retried. */
  timeoutMs: number;
  makeEvent: (n: number) => OutgoingEvent;
}

/**
 * A webhook sender that behaves like CometChat: a steady stream of new events, and every event
 * that did not get a 200 (error status, refused or reset connection, timeout) sent again, byte for
 * byte, until it does.
 */
export class Sender {
  readonly events = new Map<string, OutgoingEvent>();
  readonly attempts: Attempt[] = [];
  /** rid → the 200 that acknowledged it. */
  readonly acked = new Map<string, Attempt>();
  /** From the end of the stream until the last event had its 200. */
  drainMs = 0;
  private readonly ready: OutgoingEvent[] = [];
  private readonly tries = new Map<string, number>();
  private readonly agent: http.Agent;
  private streaming = false;
  private next = 0;
  private workers: Promise<void>[] = [];
  private wake: (() => void)[] = [];

  constructor(private readonly options: SenderOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  }

  /** Starts the stream of new events and the workers that send them. */
  start(): void {
    this.streaming = true;
    const startedAt = Date.now();
    const tick = setInterval(() => {
      if (!this.streaming) {
        return clearInterval(tick);
      }
      const due = Math.floor(((Date.now() - startedAt) / 1000) * this.options.rate);
      while (this.next < due) {
        const event = this.options.makeEvent(this.next++);
        this.events.set(event.rid, event);
        this.enqueue(event);
      }
    }, 5);
    for (let i = 0; i < this.options.concurrency; i++) {
      this.workers.push(this.work());
    }
  }

  /** Stops making new events; resolves once every event made so far has its 200. */
  async finish(timeoutMs = 60_000): Promise<void> {
    this.streaming = false;
    const stoppedAt = Date.now();
    const deadline = Date.now() + timeoutMs;
    while (this.acked.size < this.events.size) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.events.size - this.acked.size} events still without a 200 after ${timeoutMs} ms`,
        );
      }
      await sleep(50);
    }
    this.drainMs = Date.now() - stoppedAt;
    this.wake.splice(0).forEach((f) => f());
    await Promise.all(this.workers);
    this.agent.destroy();
  }

  /** Stops making new events without waiting for them (the caller has more to do first). */
  pause(): void {
    this.streaming = false;
  }

  get sent(): number {
    return this.events.size;
  }

  private enqueue(event: OutgoingEvent): void {
    this.ready.push(event);
    this.wake.shift()?.();
  }

  private retryLater(event: OutgoingEvent): void {
    const tries = (this.tries.get(event.rid) ?? 0) + 1;
    this.tries.set(event.rid, tries);
    const delay = this.options.retryDelayMs * 2 ** Math.min(tries - 1, 3);
    setTimeout(() => this.enqueue(event), delay);
  }

  private async work(): Promise<void> {
    for (;;) {
      const event = this.ready.shift();
      if (event === undefined) {
        if (!this.streaming && this.acked.size >= this.events.size) {
          return;
        }
        await new Promise<void>((resolve) => {
          this.wake.push(resolve);
          setTimeout(resolve, 50);
        });
        continue;
      }
      if (this.acked.has(event.rid)) {
        continue;
      }
      const attempt = await this.send(event);
      this.attempts.push(attempt);
      if (attempt.status === 200) {
        this.acked.set(event.rid, attempt);
      } else {
        this.retryLater(event);
      }
    }
  }

  /** Sends an event once more, outside the stream, as CometChat does when a 200 got lost. */
  redeliver(event: OutgoingEvent): Promise<Attempt> {
    return this.send(event);
  }

  private send(event: OutgoingEvent): Promise<Attempt> {
    const startedAt = Date.now();
    return new Promise((resolve) => {
      const done = (status: number | null, error: string | null, body = '') =>
        resolve({
          rid: event.rid,
          startedAt,
          endedAt: Date.now(),
          status,
          error,
          eventId: /"eventId":"(\d+)"/.exec(body)?.[1] ?? null,
          duplicate: body.includes('"duplicate":true'),
        });
      const request = http.request(
        `${this.options.url}/webhooks/cometchat`,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': event.body.length,
            authorization: this.options.authorization,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            done(response.statusCode ?? 0, null, Buffer.concat(chunks).toString('utf8')),
          );
          response.on('error', (error) => done(null, errorCode(error)));
        },
      );
      request.setTimeout(this.options.timeoutMs, () =>
        request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
      );
      request.on('error', (error) => done(null, errorCode(error)));
      request.end(event.body);
    });
  }
}

const errorCode = (error: Error) => (error as { code?: string }).code ?? error.message;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the attempts ended: `{ "200": 812, "503": 40, "ECONNREFUSED": 96 }`. */
export function outcomes(attempts: Attempt[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of attempts) {
    const key = a.status !== null ? String(a.status) : (a.error ?? 'unknown');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
