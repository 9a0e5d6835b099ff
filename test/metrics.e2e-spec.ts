import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterMessage, currentReceipt } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import { post } from './setup/http';

/** The value of one sample of the Prometheus text, e.g. `x_total{trigger="a"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let app: NestFastifyApplication;
  const KEY = 'query-key-0123456789';

  beforeAll(async () => {
    app = await startApp({ API_KEY: KEY, DB_POOL_SIZE: '7' });
    await resetDatabase();
  });
  afterAll(() => app?.close());

  const metrics = async () => {
    // No API key: scrapers need none, like health checks.
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return res.body;
  };

  it('counts events received, stored, duplicated and rejected, by trigger', async () => {
    const message = afterMessage({ id: 'm1', sender: 'alice', receiver: 'bob' });
    expect((await post(app, message)).statusCode).toBe(200);
    expect((await post(app, message)).json()).toMatchObject({ duplicate: true });
    const receipt = currentReceipt({
      messageId: 'm1',
      reader: 'bob',
      messageSender: 'alice',
      kind: 'read',
      at: 1_700_000_100,
    });
    expect((await post(app, receipt)).statusCode).toBe(200);
    const late = { ...message, data: { ...(message.data as object), sentAt: 'soon' } };
    expect((await post(app, late)).statusCode).toBe(400);
    expect((await post(app, '{not json')).statusCode).toBe(400);
    expect((await post(app, { trigger: 'custom_app_event', appId: 'app-1' })).statusCode).toBe(200);

    const text = await metrics();
    const count = (name: string, trigger: string) => sample(text, `${name}{trigger="${trigger}"}`);
    expect(count('webhook_events_received_total', 'after_message')).toBe(3);
    expect(count('webhook_events_stored_total', 'after_message')).toBe(1);
    expect(count('webhook_events_duplicate_total', 'after_message')).toBe(1);
    expect(count('webhook_events_rejected_total', 'after_message')).toBe(1);
    expect(count('webhook_events_stored_total', 'message_read_receipt')).toBe(1);
    // Triggers the store does not know are one label, and a body without one another.
    expect(count('webhook_events_stored_total', 'other')).toBe(1);
    expect(count('webhook_events_received_total', 'none')).toBe(1);
    expect(count('webhook_events_rejected_total', 'none')).toBe(1);
    expect(text).not.toContain('custom_app_event');
  });

  it('has the ingest latency and batch-size histograms and the queue depth', async () => {
    const text = await metrics();
    // Four events reached the writer: m1 twice, the receipt, the custom event.
    expect(sample(text, 'ingest_latency_seconds_count')).toBe(4);
    expect(sample(text, 'ingest_latency_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'ingest_latency_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(sample(text, 'ingest_batch_size_sum')).toBe(4);
    expect(sample(text, 'ingest_queue_depth')).toBe(0);
  });

  it("shows the database pool's use and the default Node.js metrics", async () => {
    const text = await metrics();
    expect(sample(text, 'db_pool_max')).toBe(7);
    expect(sample(text, 'db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'db_pool_connections{state="idle"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_connections{state="waiting"}')).toBe(0);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
  });

  it('keeps each app instance its own registry', async () => {
    const other = await startApp();
    try {
      const res = await other.inject({ method: 'GET', url: '/metrics' });
      expect(res.body).not.toContain('webhook_events_stored_total{');
      expect(res.body).toContain('# TYPE webhook_events_stored_total counter');
    } finally {
      await other.close();
    }
    expect(await metrics()).toContain('webhook_events_stored_total{trigger="after_message"} 1');
  });
});
