import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Browser, Page } from 'playwright-core';
import { simulate } from '../scripts/simulate';
import {
  BusyConversationsDto,
  ConversationMessageDto,
  ConversationMessagesPageDto,
} from '../src/messages/conversations.dto';
import { AppsDto } from '../src/events/events.dto';
import { afterMessage } from './factories';
import { LatencyReportDto } from '../src/receipts/latency.dto';
import { Page as ListPage } from '../src/common/paging';
import { StoredEventDto } from '../src/events/events.dto';
import { OnlinePageDto, PresenceDto, SessionsPageDto } from '../src/connections/presence.dto';
import { MessageDto } from '../src/messages/messages.dto';
import { MessageReceiptsDto } from '../src/receipts/receipts.dto';
import { UnreadUsersPageDto, UserUnreadDto } from '../src/unread/unread.dto';
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

const ARTIFACTS = path.join(__dirname, 'artifacts');
const APP_ID = 'sim-app';
const API_KEY = 'dashboard-pages-key';
const DAY_MS = 86_400_000;

interface InPage {
  document: { body: { dataset: Record<string, string> } };
  dashboard: {
    formatMs(ms: number | null): string;
    charts: Record<string, { data: { datasets: { data: { sessionId?: string }[] }[] } }>;
  };
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

/** The message ids a webhook body names (`messageId` at any depth). */
function messageIds(value: unknown): string[] {
  if (!value || typeof value !== 'object') {
    return [];
  }
  return Object.entries(value).flatMap(([key, v]) =>
    key === 'messageId' ? [String(v)] : messageIds(v),
  );
}

(canDrive ? describe : describe.skip)('the dashboard pages (user, message, conversation)', () => {
  let browser: Browser;
  let app: NestFastifyApplication;
  let url: string;
  const api = async <T>(query: string) =>
    (await app.inject({ method: 'GET', url: query })).json<T>();

  beforeAll(async () => {
    browser = await launchChromium();
    await resetDatabase();
    app = await startApp();
    url = await listen(app);
    const traffic = await simulate({
      url,
      users: 8,
      minutes: 0,
      rate: 5,
      historyHours: 48,
      appId: APP_ID,
      seed: 20261203,
    });
    expect(traffic.tally.counts.failed).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function open(query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = collectErrors(page);
    await page.goto(`${url}/?${query}`);
    await loaded(page);
    return { page, errors };
  }
  const formatMs = (page: Page, ms: number | null) =>
    page.evaluate((v) => (globalThis as unknown as InPage).dashboard.formatMs(v), ms);
  const shownWindow = (page: Page) =>
    page.evaluate(() => ({ ...(globalThis as unknown as InPage).document.body.dataset }));

  it('user page: presence, open sessions, timeline, online per day and latency match the API', async () => {
    const online = await api<OnlinePageDto>(`/presence/online?appId=${APP_ID}&limit=1`);
    const uid = online.items[0].uid;
    const { page, errors } = await open(`appId=${APP_ID}&user=${encodeURIComponent(uid)}`);
    expect(await page.getAttribute('body', 'data-view')).toBe('user');

    const q = `appId=${APP_ID}`;
    const { from, to } = await shownWindow(page);
    expect(Date.parse(to) - Date.parse(from)).toBe(7 * DAY_MS);
    const span = `${q}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const [presence, sessions, reader, sender] = await Promise.all([
      api<PresenceDto>(`/users/${uid}/presence?${q}`),
      api<SessionsPageDto>(`/users/${uid}/sessions?${span}&limit=500`),
      api<LatencyReportDto>(`/analytics/read-latency?${span}&reader=${uid}`),
      api<LatencyReportDto>(`/analytics/read-latency?${span}&sender=${uid}`),
    ]);

    expect(await shown(page, 'user-status')).toEqual({ value: 'online', text: 'online' });

    expect((await shown(page, 'user-since')).value).toBe(presence.since);
    expect((await shown(page, 'user-last-seen')).value).toBe(presence.lastSeenAt);
    expect(presence.sessions.length).toBeGreaterThan(0);
    expect(await tableRows(page, 'user-open')).toEqual(
      presence.sessions.map((s) => [
        s.sessionId,
        s.deviceId ?? '–',
        s.platform ?? '–',
        s.userAgent ?? '–',
        s.sdkVersion ?? '–',
        s.origin ?? '–',
        expect.any(String),
        s.openedBy,
      ]),
    );

    expect(sessions.nextCursor).toBeNull();
    // Open sessions count until now: the API, asked a moment later, answers a little more.
    const aMomentLater = (shownMs: string | null | undefined, answerMs: number) => {
      expect(answerMs - Number(shownMs)).toBeGreaterThanOrEqual(0);
      expect(answerMs - Number(shownMs)).toBeLessThan(10_000);
    };
    aMomentLater((await shown(page, 'user-online-total')).value, sessions.totalOnlineMs);
    const sessionRows = await tableRows(page, 'user-sessions');
    expect(sessionRows.map((r) => r[4])).toEqual(sessions.items.map((s) => s.closedBy ?? '–'));

    const days = await page.$$eval('#user-days tbody tr', (trs) =>
      trs.map((tr) => [tr.children[0].textContent, tr.children[1].getAttribute('title')]),
    );
    expect(days).toHaveLength(7);
    for (const [day, onlineMs] of days) {
      const next = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString();
      const answer = await api<SessionsPageDto>(
        `/users/${uid}/sessions?${q}&from=${day}T00:00:00Z&to=${next}&limit=1`,
      );
      aMomentLater(onlineMs, answer.totalOnlineMs);
    }

    // One bar per session, in the dataset of how it ended.
    const bars = await page.evaluate(() =>
      (globalThis as unknown as InPage).dashboard.charts['timeline-chart'].data.datasets.map((d) =>
        d.data.map((bar) => bar.sessionId).sort(),
      ),
    );
    const ids = (kind: string) =>
      sessions.items
        .filter(
          (s) =>
            (s.disconnectedAt === null
              ? 'open'
              : s.closedBy === 'inferred'
                ? 'inferred'
                : 'event') === kind,
        )
        .map((s) => s.sessionId)
        .sort();
    expect(bars).toEqual([ids('event'), ids('inferred'), ids('open')]);

    expect((await shown(page, 'user-reader-p50')).value).toBe(String(reader.p50Ms));
    expect((await shown(page, 'user-reader-count')).value).toBe(String(reader.count));
    expect((await shown(page, 'user-sender-p50')).value).toBe(String(sender.p50Ms));
    expect((await shown(page, 'user-sender-count')).value).toBe(String(sender.count));
    expect(errors).toEqual([]);
    await screenshot(page, 'dashboard-user.png');

    // The range form narrows to one day, by URL.
    const today = new Date().toISOString().slice(0, 10);
    await page.fill('#range-from', today);
    await page.fill('#range-to', today);
    await Promise.all([page.waitForURL(/from=/), page.click('#range button')]);
    await loaded(page);
    expect(await tableRows(page, 'user-days')).toHaveLength(1);
    await page.close();
  });

  it('user page: the unread counts of the user with the most unread messages', async () => {
    const list = await api<UnreadUsersPageDto>(`/analytics/unread?appId=${APP_ID}&olderThan=0s`);
    const uid = [...list.items].sort((a, b) => b.unread - a.unread)[0].uid;
    const { page, errors } = await open(`appId=${APP_ID}&user=${encodeURIComponent(uid)}`);
    const q = `appId=${APP_ID}`;
    // Unread counts do not depend on the clock: the API answers what the page showed.
    const unread = await api<UserUnreadDto>(`/users/${uid}/unread?${q}&limit=500`);
    expect(await shown(page, 'user-unread')).toEqual({
      value: String(unread.total),
      text: `${unread.total} messages`,
    });
    expect((await shown(page, 'user-unread-note')).value).toBe(String(unread.conversations));
    expect(await tableRows(page, 'user-unread-conversations')).toEqual(
      unread.items.length === 0
        ? [['Nothing unread']]
        : unread.items.map((c) => [
            c.conversationId,
            c.receiverType,
            String(c.unread),
            expect.any(String),
            expect.any(String),
            c.lastReadAt === null ? 'never' : expect.any(String),
            c.membership,
          ]),
    );
    expect(unread.total).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await screenshot(page, 'dashboard-user-unread.png');
    await page.close();
  });

  it('message page: the message, each recipient’s receipts and the events behind them', async () => {
    const events = await api<ListPage<StoredEventDto>>(
      `/events?appId=${APP_ID}&trigger=message_read_receipt&limit=50`,
    );
    let id: string | undefined;
    let receipts: MessageReceiptsDto | undefined;
    for (const event of events.items) {
      for (const candidate of messageIds(event.body)) {
        const answer = await app.inject({
          method: 'GET',
          url: `/messages/${candidate}/receipts?appId=${APP_ID}`,
        });
        const body = answer.json<MessageReceiptsDto>();
        if (answer.statusCode === 200 && body.sentAt && body.read.length > 0) {
          [id, receipts] = [candidate, body];
          break;
        }
      }
      if (id) {
        break;
      }
    }
    expect(id).toBeDefined();
    const message = await api<MessageDto>(`/messages/${id}?appId=${APP_ID}`);

    const { page, errors } = await open(`appId=${APP_ID}&message=${id}`);
    expect(await shown(page, 'message-sender')).toEqual({
      value: message.sender,
      text: message.sender,
    });
    expect((await shown(page, 'message-receiver')).value).toBe(message.receiver);
    expect((await shown(page, 'message-conversation')).value).toBe(message.conversationId);
    expect((await shown(page, 'message-sent')).value).toBe(message.sentAt);
    const summary = receipts!.summary;
    expect((await shown(page, 'message-counts')).value).toBe(
      `${summary.deliveredCount}/${summary.readCount}/${summary.recipients}`,
    );

    const uids = [...new Set([...receipts!.delivered, ...receipts!.read].map((r) => r.uid))].sort();
    const rows = await tableRows(page, 'message-recipients');
    const kind = (r?: { implied: boolean }) => (r ? (r.implied ? 'implied' : 'explicit') : '–');
    expect(rows.map((r) => [r[0], r[2], r[3], r[5], r[6]])).toEqual(
      await Promise.all(
        uids.map(async (uid) => {
          const d = receipts!.delivered.find((r) => r.uid === uid);
          const r = receipts!.read.find((x) => x.uid === uid);
          return [
            uid,
            await formatMs(page, d?.latencyMs ?? null),
            kind(d),
            await formatMs(page, r?.latencyMs ?? null),
            kind(r),
          ];
        }),
      ),
    );

    // The events shown all name the message, and include its explicit read receipts.
    const eventRows = await tableRows(page, 'message-events');
    const shownIds = eventRows.map((r) => r[0]!);
    expect(shownIds.length).toBeGreaterThan(0);
    const explicitReads = receipts!.read.filter((r) => !r.implied).length;
    expect(eventRows.filter((r) => r[2] === 'message_read_receipt').length).toBeGreaterThanOrEqual(
      explicitReads,
    );
    expect(errors).toEqual([]);
    await screenshot(page, 'dashboard-message.png');
    await page.close();
  });

  it('conversation page: read and delivery latency and the daily trend match the API', async () => {
    const busiest = await api<BusyConversationsDto>(
      `/analytics/conversations?appId=${APP_ID}&limit=1&from=${new Date(Date.now() - 2 * DAY_MS).toISOString()}`,
    );
    const conversationId = busiest.items[0].conversationId;
    const { page, errors } = await open(
      `appId=${APP_ID}&conversation=${encodeURIComponent(conversationId)}`,
    );
    const { from, to } = await shownWindow(page);
    const span = `appId=${APP_ID}&conversationId=${encodeURIComponent(conversationId)}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const [read, delivery] = await Promise.all([
      api<LatencyReportDto>(`/analytics/read-latency?${span}&interval=day`),
      api<LatencyReportDto>(`/analytics/delivery-latency?${span}`),
    ]);
    expect(read.count).toBeGreaterThan(0);
    expect((await shown(page, 'conversation-read-p50')).value).toBe(String(read.p50Ms));
    expect((await shown(page, 'conversation-read-count')).value).toBe(String(read.count));
    expect((await shown(page, 'conversation-delivery-p50')).value).toBe(String(delivery.p50Ms));
    const charted = await page.evaluate(() =>
      (globalThis as unknown as InPage).dashboard.charts[
        'conversation-read-chart'
      ].data.datasets.map((d) => d.data),
    );
    expect(charted).toEqual(
      (['p50Ms', 'p90Ms', 'p99Ms'] as const).map((key) => read.series!.map((b) => b[key])),
    );

    // The messages, newest first, with each member's read state as the API has it.
    const messages = await api<ConversationMessagesPageDto>(
      `/conversations/${encodeURIComponent(conversationId)}/messages?appId=${APP_ID}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=100`,
    );
    expect(messages.items.length).toBeGreaterThan(0);
    const members = [
      ...new Set(
        messages.items.flatMap((m) => [
          ...(m.receiverType === 'user' ? [m.sender, m.receiver] : []),
          ...[...m.delivered, ...m.read].map((r) => r.uid),
        ]),
      ),
    ]
      .sort()
      .slice(0, 12);
    expect(
      await page.$$eval('#conversation-messages thead th', (ths) => ths.map((t) => t.textContent)),
    ).toEqual(['Sent', 'Message', 'Sender', 'Edited / deleted', ...members]);
    const state = async (m: ConversationMessageDto, uid: string) => {
      if (uid === m.sender) {
        return 'sender';
      }
      const [kind, r] = m.read.some((x) => x.uid === uid)
        ? ['read', m.read.find((x) => x.uid === uid)!]
        : ['delivered', m.delivered.find((x) => x.uid === uid)];
      return r
        ? `${kind} ${await formatMs(page, r.latencyMs)}${r.implied ? ' (implied)' : ''}`
        : '–';
    };
    const messageRows = await tableRows(page, 'conversation-messages');
    expect(messageRows.map((r) => [r[1], r[2], ...r.slice(4)])).toEqual(
      await Promise.all(
        messages.items.map(async (m) => [
          m.id,
          m.sender,
          ...(await Promise.all(members.map((uid) => state(m, uid)))),
        ]),
      ),
    );
    expect(messageRows.flat()).toEqual(expect.arrayContaining([expect.stringMatching(/^read /)]));
    expect(errors).toEqual([]);
    await screenshot(page, 'dashboard-conversation.png');
    await page.close();
  });

  it('gets there: overview links to user and conversation pages, the search box opens a message', async () => {
    const { page, errors } = await open('');
    expect(await page.isHidden('#app-picker')).toBe(true); // one app: nothing to pick
    const userLink = await page.getAttribute('#online tbody tr:first-child a', 'href');
    expect(userLink).toMatch(new RegExp(`^/\\?appId=${APP_ID}&user=`));
    const conversationLink = await page.getAttribute(
      '#conversations tbody tr:first-child a',
      'href',
    );
    expect(conversationLink).toMatch(new RegExp(`^/\\?appId=${APP_ID}&conversation=`));

    await Promise.all([page.waitForURL(/user=/), page.click('#online tbody tr:first-child a')]);
    await loaded(page);
    expect(await page.getAttribute('body', 'data-view')).toBe('user');

    await page.selectOption('#search-kind', 'conversation');
    const conversationId = decodeURIComponent(conversationLink!.split('conversation=')[1]);
    await page.fill('#search-input', conversationId);
    await Promise.all([page.waitForURL(/conversation=/), page.click('#search button')]);
    await loaded(page);
    expect(await page.getAttribute('body', 'data-view')).toBe('conversation');
    expect(new URL(page.url()).searchParams.get('appId')).toBe(APP_ID);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('app picker: with several apps, picks one by URL and shows its data', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/cometchat',
      payload: afterMessage({
        appId: 'other-app',
        id: 'other-1',
        sender: 'olga',
        receiver: 'oleg',
        sentAt: now - 60,
      }),
    });
    expect(res.statusCode).toBe(200);
    const apps = await api<AppsDto>('/apps');
    expect(apps.items.map((a) => a.appId)).toEqual(['other-app', APP_ID]);

    const { page, errors } = await open(`appId=${APP_ID}`);
    expect(await page.isVisible('#app-picker')).toBe(true);
    expect(await page.$$eval('#app-picker option', (os) => os.map((o) => o.value))).toEqual([
      '',
      'other-app',
      APP_ID,
    ]);
    expect(await page.inputValue('#app-picker')).toBe(APP_ID);
    await Promise.all([
      page.waitForURL(/appId=other-app/),
      page.selectOption('#app-picker', 'other-app'),
    ]);
    await loaded(page);
    expect(await page.inputValue('#app-picker')).toBe('other-app');
    expect(await page.getAttribute('#conversations tbody tr:first-child a', 'href')).toBe(
      '/?appId=other-app&conversation=oleg_user_olga',
    );
    expect((await tableRows(page, 'conversations')).length).toBe(1);
    expect(errors).toEqual([]);
    await screenshot(page, 'dashboard-app-picker.png');
    await page.close();
  });

  describe('with API_KEY set', () => {
    let secured: NestFastifyApplication;
    let securedUrl: string;

    beforeAll(async () => {
      secured = await startApp({ API_KEY });
      securedUrl = await listen(secured);
    });
    afterAll(() => secured?.close());

    it('a cold deep link asks for the key, then shows the page; the key never goes in a URL', async () => {
      const online = (
        await secured.inject({
          method: 'GET',
          url: `/presence/online?appId=${APP_ID}&limit=1`,
          headers: { authorization: `Bearer ${API_KEY}` },
        })
      ).json<OnlinePageDto>();
      const uid = online.items[0].uid;
      const page = await browser.newPage();
      const urls: string[] = [];
      page.on('request', (request) => urls.push(request.url()));
      await page.goto(`${securedUrl}/?appId=${APP_ID}&user=${encodeURIComponent(uid)}`);
      await page.waitForSelector('#key-form', { state: 'visible' });
      await page.fill('#key-input', API_KEY);
      await page.click('#key-form button');
      await loaded(page);
      expect((await shown(page, 'user-status')).value).toBe('online');
      expect(urls.length).toBeGreaterThan(5);
      expect(urls.filter((u) => u.includes(API_KEY))).toEqual([]);
      expect(page.url()).not.toContain(API_KEY);
      await page.close();
    });
  });
});
