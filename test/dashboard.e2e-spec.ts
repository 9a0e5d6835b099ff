import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Browser, Response } from 'playwright-core';
import { simulate, SimulateSummary } from '../scripts/simulate';
import { ActiveUsersDto } from '../src/analytics/active-users.dto';
import { ConcurrencyDto } from '../src/analytics/concurrency.dto';
import { SessionLengthsDto } from '../src/analytics/session-lengths.dto';
import { BusyConversationsDto } from '../src/messages/conversations.dto';
import { LatencyReportDto } from '../src/receipts/latency.dto';
import { Page as ListPage } from '../src/common/paging';
import { RejectedEventDto } from '../src/events/events.dto';
import { OnlinePageDto } from '../src/connections/presence.dto';
import { UnreadUsersPageDto } from '../src/unread/unread.dto';
import { afterMessage } from './factories';
import { resetDatabase, startApp } from './setup/test-app';
import {
  canDrive,
  collectErrors,
  launchChromium,
  listen,
  loaded,
  shown,
  tableRows,
} from './dashboard-browser';

const SCREENSHOT = path.join(__dirname, 'artifacts', 'dashboard.png');
const API_KEY = 'dashboard-test-key';

/** What the test reads in the page, where `globalThis` is the window (no DOM types here). */
interface InPage {
  document: {
    body: { dataset: Record<string, string> };
    getElementById(id: string): { textContent: string | null } | null;
  };
  dashboard: {
    formatMs(ms: number | null): string;
    charts: Record<string, { data: { datasets: { data: unknown[] }[] } }>;
  };
}

(canDrive ? describe : describe.skip)('GET / (the dashboard)', () => {
  let browser: Browser;
  let app: NestFastifyApplication;
  let url: string;
  let traffic: SimulateSummary;

  beforeAll(async () => {
    browser = await launchChromium();
    await resetDatabase();
    app = await startApp();
    url = await listen(app);
    traffic = await simulate({
      url,
      users: 12,
      minutes: 0,
      rate: 5,
      historyHours: 24,
      appId: 'sim-app',
      seed: 20261125,
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows what the API answers, after a simulated day of traffic', async () => {
    expect(traffic.tally.counts.failed).toBe(0);
    expect(traffic.tally.counts.rejected).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = collectErrors(page);
    // The re-engagement list is relative to now: compare the page with the answers it was given.
    const unreadAnswers: Response[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/analytics/unread')) {
        unreadAnswers.push(r);
      }
    });
    await page.goto(`${url}/`);
    await loaded(page);

    // The API, asked for the same window the page used.
    const { from, to } = await page.evaluate(() => ({
      ...(globalThis as unknown as InPage).document.body.dataset,
    }));
    const window24h = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const api = async <T>(query: string) =>
      (await app.inject({ method: 'GET', url: query })).json<T>();
    const [online, concurrency, read, delivery, conversations, rejected] = await Promise.all([
      api<OnlinePageDto>('/presence/online?limit=1'),
      api<ConcurrencyDto>(`/analytics/concurrency?${window24h}&interval=hour`),
      api<LatencyReportDto>(`/analytics/read-latency?${window24h}&interval=hour`),
      api<LatencyReportDto>(`/analytics/delivery-latency?${window24h}&interval=hour`),
      api<BusyConversationsDto>(`/analytics/conversations?${window24h}&limit=10`),
      api<ListPage<RejectedEventDto>>('/events/rejected?limit=10'),
    ]);
    const [active, sessions] = await Promise.all([
      api<ActiveUsersDto>(`/analytics/active-users?to=${encodeURIComponent(to)}&interval=day`),
      api<SessionLengthsDto>(`/analytics/sessions?${window24h}`),
    ]);
    const formatMs = (ms: number | null) =>
      page.evaluate((v) => (globalThis as unknown as InPage).dashboard.formatMs(v), ms);

    expect(online.count).toBeGreaterThan(0);
    expect(await shown(page, 'online-now')).toEqual({
      value: String(online.count),
      text: String(online.count),
    });
    const peak = Math.max(...concurrency.buckets.map((b) => b.peak));
    expect(await shown(page, 'peak-online')).toEqual({ value: String(peak), text: String(peak) });
    expect(read.count).toBeGreaterThan(0);
    expect(await shown(page, 'read-p50')).toEqual({
      value: String(read.p50Ms),
      text: await formatMs(read.p50Ms),
    });
    expect((await shown(page, 'read-count')).value).toBe(String(read.count));
    expect(await shown(page, 'delivery-p50')).toEqual({
      value: String(delivery.p50Ms),
      text: await formatMs(delivery.p50Ms),
    });
    expect((await shown(page, 'delivery-count')).value).toBe(String(delivery.count));
    expect(active.stickiness.online.distinct).toBeGreaterThan(0);
    expect((await shown(page, 'active-users')).value).toBe(
      String(active.stickiness.online.distinct),
    );
    expect((await shown(page, 'active-note')).text).toBe(
      `${active.stickiness.senders.distinct} sent · DAU/MAU ${(active.stickiness.online.ratio! * 100).toFixed(1)}%`,
    );
    expect(sessions.closed.count).toBeGreaterThan(0);
    expect(await shown(page, 'session-p50')).toEqual({
      value: String(sessions.closed.p50Ms),
      text: await formatMs(sessions.closed.p50Ms),
    });
    expect((await shown(page, 'session-count')).value).toBe(String(sessions.sessions));
    // Derivation caught up before the page loaded (the API waits for it): nothing waiting.
    const health = (await app.inject({ method: 'GET', url: '/health' })).json<{
      details: { derivation: { backlog: number; lagMs: number } };
    }>();
    expect(health.details.derivation.backlog).toBe(0);
    expect(await shown(page, 'derivation-backlog')).toEqual({ value: '0', text: '0 events' });
    expect((await shown(page, 'derivation-lag')).text).toBe('oldest waiting 0 ms');
    // Ingest rate: the first refresh has nothing to compare with; the next counts what came since.
    expect((await shown(page, 'ingest-rate')).text).toBe('measuring…');
    const refreshes = await page.getAttribute('body', 'data-refreshes');
    for (const id of ['rate-1', 'rate-2', 'rate-3']) {
      const body = afterMessage({ id, sender: 'sim-amara', receiver: 'sim-bruno' });
      expect(
        (await app.inject({ method: 'POST', url: '/webhooks/cometchat', payload: body }))
          .statusCode,
      ).toBe(200);
    }
    await page.click('#refresh');
    await page.waitForFunction(
      (before) => (globalThis as unknown as InPage).document.body.dataset.refreshes !== before,
      refreshes,
    );
    expect((await shown(page, 'ingest-rate')).value).toBe('3');
    expect((await shown(page, 'ingest-rate')).text).toMatch(/^\d+\.\d events\/s$/);

    const charted = await page.evaluate(() => {
      const charts = (globalThis as unknown as InPage).dashboard.charts;
      const data = (id: string) => charts[id].data.datasets.map((d) => d.data);
      return {
        concurrency: data('concurrency-chart'),
        read: data('read-chart'),
        delivery: data('delivery-chart'),
        active: data('active-chart'),
      };
    });
    expect(concurrency.buckets.length).toBeGreaterThanOrEqual(24);
    expect(charted.concurrency).toEqual([
      concurrency.buckets.map((b) => b.onlineAtEnd),
      concurrency.buckets.map((b) => b.peak),
    ]);
    const percentiles = (report: LatencyReportDto) =>
      (['p50Ms', 'p90Ms', 'p99Ms'] as const).map((key) => report.series!.map((b) => b[key]));
    expect(charted.active).toEqual([
      active.buckets.map((b) => b.online),
      active.buckets.map((b) => b.senders),
    ]);
    expect(charted.read).toEqual(percentiles(read));
    expect(charted.delivery).toEqual(percentiles(delivery));

    expect(conversations.items.length).toBeGreaterThan(0);
    const conversationRows = await tableRows(page, 'conversations');
    expect(conversationRows.map((r) => r.slice(0, 4))).toEqual(
      conversations.items.map((c) => [
        c.conversationId,
        c.receiverType,
        String(c.messages),
        String(c.senders),
      ]),
    );
    expect(conversationRows.map((r) => r[4])).toEqual(
      await Promise.all(conversations.items.map((c) => formatMs(c.readP50Ms))),
    );

    // A day of simulated traffic leaves messages unread for over an hour. The page shows the
    // latest refresh's answer.
    const lastUnread = unreadAnswers.at(-1)!;
    expect(new URL(lastUnread.url()).searchParams.get('olderThan')).toBe('1h');
    const unread = (await lastUnread.json()) as UnreadUsersPageDto;
    expect(unread.items.length).toBeGreaterThan(0);
    const unreadMessages = unread.items.reduce((sum, u) => sum + u.unread, 0);
    expect(await shown(page, 'unread-users')).toEqual({
      value: String(unread.items.length),
      text: `${unread.items.length}${unread.nextCursor ? '+' : ''} users`,
    });
    expect((await shown(page, 'unread-note')).value).toBe(String(unreadMessages));
    const waiting = [...unread.items]
      .sort((a, b) => a.oldestUnreadSentAt.localeCompare(b.oldestUnreadSentAt))
      .slice(0, 10);
    expect((await tableRows(page, 'unread')).map((r) => r.slice(0, 4))).toEqual(
      waiting.map((u) => [u.uid, String(u.unread), String(u.inferred), String(u.conversations)]),
    );

    expect(rejected.items.length).toBeGreaterThan(0);
    const rejectedRows = await tableRows(page, 'rejected');
    expect(rejectedRows.map((r) => [r[0], r[3], r[4]])).toEqual(
      rejected.items.map((r) => [r.id, r.field ?? '–', r.reason]),
    );

    expect(await page.isHidden('#key-form')).toBe(true);
    expect(errors).toEqual([]);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  it('serves the page, its script and Chart.js from the app itself', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/dashboard/chart.umd.min.js', '/dashboard/dashboard.js']);
    for (const src of scripts) {
      const script = await app.inject({ method: 'GET', url: src });
      expect(script.statusCode).toBe(200);
      expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    }
    const library = await app.inject({ method: 'GET', url: '/dashboard/chart.umd.min.js' });
    expect(library.body).toContain('Chart.js v4');
  });

  describe('with API_KEY set', () => {
    let secured: NestFastifyApplication;
    let securedUrl: string;

    beforeAll(async () => {
      secured = await startApp({ API_KEY });
      securedUrl = await listen(secured);
    });
    afterAll(() => secured?.close());

    it('asks for the key, refuses a wrong one, and keeps the right one for the tab', async () => {
      const page = await browser.newPage();
      await page.goto(`${securedUrl}/`);
      await page.waitForSelector('#key-form', { state: 'visible' });
      expect(await page.getAttribute('body', 'data-refreshes')).toBeNull();

      await page.fill('#key-input', 'not-the-key');
      await page.click('#key-form button');
      await page.waitForFunction(
        () =>
          (globalThis as unknown as InPage).document.getElementById('key-error')!.textContent !==
          '',
        undefined,
        { timeout: 10_000 },
      );
      expect(await page.textContent('#key-error')).toBe('That key was refused.');

      await page.fill('#key-input', API_KEY);
      await page.click('#key-form button');
      await loaded(page);
      const online = (
        await secured.inject({
          method: 'GET',
          url: '/presence/online?limit=1',
          headers: { authorization: `Bearer ${API_KEY}` },
        })
      ).json<{ count: number }>();
      expect((await shown(page, 'online-now')).value).toBe(String(online.count));

      await page.reload();
      await loaded(page);
      expect(await page.isHidden('#key-form')).toBe(true);
      await page.close();
    });
  });
});
