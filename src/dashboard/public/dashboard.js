// The dashboard: plain browser JavaScript, no build step. Every number comes from the query API;
// nothing is computed here but the peak of the concurrency buckets, the timeline's lanes and the
// display formats. `?user=`, `?message=` and `?conversation=` (with `appId`) open a detail page;
// with several apps in the store, a picker sets `appId` for every page.
(function () {
  'use strict';

  const REFRESH_MS = 10_000;
  const DAY_MS = 86_400_000;
  const KEY_STORAGE = 'presence-receipts-store.apiKey';
  const params = new URLSearchParams(window.location.search);
  const appId = params.get('appId');
  const $ = (id) => document.getElementById(id);
  const VIEWS = ['user', 'message', 'conversation'];
  const view = VIEWS.find((name) => params.get(name)) ?? 'overview';
  const subject = view === 'overview' ? null : params.get(view);

  let refreshing = false;
  let needsKey = false;
  let refreshes = 0;
  const charts = {};

  class NeedsKey extends Error {}

  async function api(path, query, { scoped = true } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) {
        url.searchParams.set(name, String(value));
      }
    }
    if (appId && scoped) {
      url.searchParams.set('appId', appId);
    }
    const key = sessionStorage.getItem(KEY_STORAGE);
    const response = await fetch(url, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    if (response.status === 401) {
      throw new NeedsKey();
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error(
        `${url.pathname}: ${response.status} ${body?.message ?? response.statusText}`,
      );
    }
    return body;
  }

  /** Milliseconds as people read them: 850 ms, 12.3 s, 4.2 min, 1.5 h. */
  function formatMs(ms) {
    if (ms === null || ms === undefined) {
      return '–';
    }
    if (ms < 1000) {
      return `${Math.round(ms)} ms`;
    }
    if (ms < 60_000) {
      return `${(ms / 1000).toFixed(1)} s`;
    }
    if (ms < 3_600_000) {
      return `${(ms / 60_000).toFixed(1)} min`;
    }
    return `${(ms / 3_600_000).toFixed(1)} h`;
  }
  const formatCount = (n) => Number(n).toLocaleString('en-US');
  const formatTime = (iso) =>
    new Date(iso).toLocaleString([], {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  const hourLabel = (iso) =>
    new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  // Log-scale ticks at durations people think in, instead of 2, 5 and 10 × 10ⁿ ms.
  const TICKS = [
    [100, '100 ms'],
    [1000, '1 s'],
    [10_000, '10 s'],
    [60_000, '1 min'],
    [600_000, '10 min'],
    [3_600_000, '1 h'],
    [36_000_000, '10 h'],
  ];

  function show(id, value, text) {
    const element = $(id);
    element.dataset.value = value === null ? '' : String(value);
    element.textContent = text;
  }

  function cell(text, className, title) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    if (title) {
      td.title = title;
    }
    return td;
  }

  /** A link to a detail page, scoped to the item's app when it names one. */
  function pageHref(kind, id, itemAppId) {
    const query = new URLSearchParams();
    if (itemAppId ?? appId) {
      query.set('appId', itemAppId ?? appId);
    }
    query.set(kind, id);
    return `/?${query}`;
  }

  function linkCell(text, href, className) {
    const td = cell('', className);
    const a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    td.append(a);
    return td;
  }

  /** A cell holding a body, folded: the summary says its size, the rest is the body as text. */
  function bodyCell(body) {
    const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
    const td = cell('');
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = `${formatCount(text.length)} chars`;
    const pre = document.createElement('pre');
    pre.textContent = text;
    details.append(summary, pre);
    td.append(details);
    return td;
  }

  function fillTable(id, items, columns, emptyText) {
    const body = $(id).querySelector('tbody');
    const rows = items.map((item) => {
      const tr = document.createElement('tr');
      for (const column of columns) {
        tr.append(column(item));
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell(emptyText, 'empty');
      td.colSpan = columns.length;
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function chart(id, config) {
    if (charts[id]) {
      charts[id].data.labels = config.data.labels;
      config.data.datasets.forEach((dataset, i) => {
        charts[id].data.datasets[i].data = dataset.data;
      });
      charts[id].update('none');
      return;
    }
    charts[id] = new window.Chart($(id), {
      ...config,
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom' } },
        ...config.options,
      },
    });
  }

  function latencyChart(id, report, label = hourLabel) {
    const series = report.series ?? [];
    const line = (label, key, color) => ({
      label,
      data: series.map((b) => b[key]),
      borderColor: color,
      backgroundColor: color,
      pointRadius: 2,
      spanGaps: false,
    });
    chart(id, {
      type: 'line',
      data: {
        labels: series.map((b) => label(b.start)),
        datasets: [
          line('p50', 'p50Ms', '#3559e0'),
          line('p90', 'p90Ms', '#f79009'),
          line('p99', 'p99Ms', '#c4320a'),
        ],
      },
      options: {
        scales: {
          y: {
            type: 'logarithmic',
            afterBuildTicks: (axis) => {
              const nice = TICKS.filter(([v]) => v >= axis.min && v <= axis.max);
              if (nice.length > 0) {
                axis.ticks = nice.map(([value]) => ({ value }));
              }
            },
            ticks: {
              callback: (value) =>
                TICKS.find(([v]) => v === Number(value))?.[1] ?? formatMs(Number(value)),
            },
          },
        },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: { label: (c) => `${c.dataset.label}: ${formatMs(c.parsed.y)}` },
          },
        },
      },
    });
  }

  /** The sum of a Prometheus counter's samples, every label set together. */
  function counterTotal(text, name) {
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  let lastIngest = null;
  /**
   * Events this instance stored between two refreshes, from /metrics (public): the value is the
   * count, the text the rate. With several instances, each dashboard shows the one serving it.
   */
  async function showIngestRate() {
    const text = await fetch(new URL('/metrics', window.location.origin))
      .then((r) => (r.ok ? r.text() : null))
      .catch(() => null);
    if (text === null) {
      show('ingest-rate', null, '–');
      show('ingest-note', null, 'metrics unavailable');
      return;
    }
    const stored = counterTotal(text, 'webhook_events_stored_total');
    const at = performance.now();
    if (lastIngest !== null && stored >= lastIngest.stored) {
      const events = stored - lastIngest.stored;
      const seconds = Math.max(0.001, (at - lastIngest.at) / 1000);
      show('ingest-rate', events, `${(events / seconds).toFixed(1)} events/s`);
      show(
        'ingest-note',
        Math.round(seconds),
        `${formatCount(events)} stored in the last ${Math.round(seconds)} s (this instance)`,
      );
    } else {
      show('ingest-rate', null, 'measuring…');
      show('ingest-note', null, `${formatCount(stored)} stored since this instance started`);
    }
    lastIngest = { stored, at };
  }

  /** Backlog and lag of derivation, from /health (public; 503 when not ready, still a body). */
  async function showDerivation() {
    const health = await fetch(new URL('/health', window.location.origin))
      .then((r) => r.json())
      .catch(() => null);
    const status = health?.details?.derivation;
    if (!status || status.backlog === undefined) {
      show('derivation-backlog', null, '–');
      show('derivation-lag', null, 'unknown');
      return;
    }
    show('derivation-backlog', status.backlog, `${formatCount(status.backlog)} events`);
    show(
      'derivation-lag',
      status.lagMs,
      `${status.degraded ? 'behind: ' : ''}oldest waiting ${formatMs(status.lagMs)}` +
        (status.failed > 0 ? ` · ${formatCount(status.failed)} failed` : ''),
    );
  }

  /** The re-engagement list: users with a message unread for over an hour (the first 500). */
  function showUnread(unread) {
    const users = unread.items.length;
    const messages = unread.items.reduce((sum, u) => sum + u.unread, 0);
    show('unread-users', users, `${formatCount(users)}${unread.nextCursor ? '+' : ''} users`);
    show(
      'unread-note',
      messages,
      `${formatCount(messages)} messages sent before ${formatTime(unread.before)}`,
    );
    const waiting = [...unread.items]
      .sort((a, b) => a.oldestUnreadSentAt.localeCompare(b.oldestUnreadSentAt))
      .slice(0, 10);
    fillTable(
      'unread',
      waiting,
      [
        (u) => linkCell(u.uid, pageHref('user', u.uid, u.appId)),
        (u) => cell(formatCount(u.unread), 'num'),
        (u) => cell(formatCount(u.inferred), 'num'),
        (u) => cell(formatCount(u.conversations), 'num'),
        (u) => cell(formatTime(u.oldestUnreadSentAt)),
      ],
      'Nothing unread for over an hour',
    );
  }

  async function showOverview(to) {
    const from = new Date(to.getTime() - DAY_MS);
    const window24h = { from: from.toISOString(), to: to.toISOString() };
    const [online, concurrency, read, delivery, conversations, rejected, active, sessions, unread] =
      await Promise.all([
        api('/presence/online', { limit: 20 }),
        api('/analytics/concurrency', { ...window24h, interval: 'hour' }),
        api('/analytics/read-latency', { ...window24h, interval: 'hour' }),
        api('/analytics/delivery-latency', { ...window24h, interval: 'hour' }),
        api('/analytics/conversations', { ...window24h, limit: 10 }),
        api('/events/rejected', { limit: 10 }),
        // the 30 UTC days up to today
        api('/analytics/active-users', { to: to.toISOString(), interval: 'day' }),
        api('/analytics/sessions', window24h),
        api('/analytics/unread', { olderThan: '1h', limit: 500 }),
      ]);

    show('online-now', online.count, formatCount(online.count));
    const peak = Math.max(0, ...concurrency.buckets.map((b) => b.peak));
    show('peak-online', peak, formatCount(peak));
    show('read-p50', read.p50Ms, formatMs(read.p50Ms));
    show('read-count', read.count, `${formatCount(read.count)} read receipts`);
    show('delivery-p50', delivery.p50Ms, formatMs(delivery.p50Ms));
    show('delivery-count', delivery.count, `${formatCount(delivery.count)} delivery receipts`);
    const { online: activeOnline, senders: activeSenders } = active.stickiness;
    show('active-users', activeOnline.distinct, formatCount(activeOnline.distinct));
    show(
      'active-note',
      activeOnline.ratio,
      `${formatCount(activeSenders.distinct)} sent · DAU/MAU ${
        activeOnline.ratio === null ? '–' : `${(activeOnline.ratio * 100).toFixed(1)}%`
      }`,
    );
    show('session-p50', sessions.closed.p50Ms, formatMs(sessions.closed.p50Ms));
    show(
      'session-count',
      sessions.sessions,
      `${formatCount(sessions.sessions)} sessions · ${formatCount(sessions.inferred.count)} closed by inference`,
    );
    showUnread(unread);
    await showDerivation();
    await showIngestRate();

    chart('concurrency-chart', {
      type: 'bar',
      data: {
        labels: concurrency.buckets.map((b) => hourLabel(b.start)),
        datasets: [
          {
            type: 'line',
            label: 'online at the end of the hour',
            data: concurrency.buckets.map((b) => b.onlineAtEnd),
            borderColor: '#3559e0',
            backgroundColor: '#3559e0',
            pointRadius: 2,
          },
          {
            label: 'peak within the hour',
            data: concurrency.buckets.map((b) => b.peak),
            backgroundColor: 'rgba(53, 89, 224, 0.18)',
          },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    chart('active-chart', {
      type: 'bar',
      data: {
        labels: active.buckets.map((b) => b.start.slice(5, 10)),
        datasets: [
          {
            label: 'online',
            data: active.buckets.map((b) => b.online),
            backgroundColor: 'rgba(53, 89, 224, 0.5)',
          },
          {
            label: 'sent a message',
            data: active.buckets.map((b) => b.senders),
            backgroundColor: 'rgba(224, 131, 53, 0.6)',
          },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    latencyChart('read-chart', read);
    latencyChart('delivery-chart', delivery);

    fillTable(
      'conversations',
      conversations.items,
      [
        (c) => linkCell(c.conversationId, pageHref('conversation', c.conversationId, c.appId)),
        (c) => cell(c.receiverType),
        (c) => cell(formatCount(c.messages), 'num'),
        (c) => cell(formatCount(c.senders), 'num'),
        (c) => cell(formatMs(c.readP50Ms), 'num'),
        (c) => cell(c.lastMessageAt === null ? '—' : formatTime(c.lastMessageAt)),
      ],
      'No messages in the last 24 h',
    );
    fillTable(
      'rejected',
      rejected.items,
      [
        (r) => cell(r.id, 'num'),
        (r) => cell(formatTime(r.receivedAt)),
        (r) => cell(r.trigger ?? '–'),
        (r) => cell(r.field ?? '–'),
        (r) => cell(r.reason, '', r.reason),
        (r) => bodyCell(r.body),
      ],
      'Nothing rejected',
    );
    $('rejected-note').textContent = rejected.nextCursor ? '(the 10 newest)' : '';
    fillTable(
      'online',
      online.items,
      [
        (u) => linkCell(u.uid, pageHref('user', u.uid, u.appId)),
        (u) => cell(formatTime(u.since)),
        (u) => cell(formatCount(u.sessions.length), 'num'),
        (u) => cell([...new Set(u.sessions.map((s) => s.platform ?? '?'))].join(', ')),
      ],
      'Nobody online',
    );
    $('online-note').textContent = online.nextCursor ? `(the first ${online.items.length})` : '';
    return window24h;
  }

  const MAX_DAYS = 92;
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

  /**
   * The detail pages' range: whole UTC days `from`..`to` (URL, inclusive), by default the last 7
   * days up to today; the API reads it as [from 00:00, day after `to` 00:00).
   */
  function dayRange(now) {
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const day = (name) => {
      const value = params.get(name);
      const ms = /^\d{4}-\d{2}-\d{2}$/.test(value ?? '') ? Date.parse(`${value}T00:00:00Z`) : NaN;
      return Number.isNaN(ms) ? null : ms;
    };
    const last = day('to') ?? today;
    let first = day('from') ?? last - 6 * DAY_MS;
    if (first > last) {
      first = last;
    }
    if (last - first >= MAX_DAYS * DAY_MS) {
      first = last - (MAX_DAYS - 1) * DAY_MS;
    }
    const end = last + DAY_MS;
    return {
      fromDay: isoDay(first),
      toDay: isoDay(last),
      days: Array.from({ length: (end - first) / DAY_MS }, (_, i) => first + i * DAY_MS),
      from: new Date(first).toISOString(),
      to: new Date(end).toISOString(),
      startMs: first,
      endMs: end,
    };
  }

  /** Every page of a list, up to `maxPages`; the answer's other fields are the first page's. */
  async function allPages(path, query, maxPages = 10) {
    const first = await api(path, { ...query, limit: 500 });
    const items = [...first.items];
    let cursor = first.nextCursor;
    for (let pages = 1; cursor && pages < maxPages; pages++) {
      const next = await api(path, { ...query, limit: 500, cursor });
      items.push(...next.items);
      cursor = next.nextCursor;
    }
    return { ...first, items, nextCursor: cursor };
  }

  /** An answer, or null when the API says 404 (an id it does not know). */
  const orNotFound = (promise) =>
    promise.catch((error) => {
      if (/: 404 /.test(error.message)) {
        return null;
      }
      throw error;
    });

  const laneOf = (s) =>
    s.deviceId ? `${s.platform ?? 'device'} · ${s.deviceId}` : (s.platform ?? s.sessionId);
  const orDash = (value) => (value === null || value === undefined ? '–' : String(value));

  async function showUser(now) {
    const range = dayRange(now);
    const uid = encodeURIComponent(subject);
    const span = { from: range.from, to: range.to };
    const [presence, sessions, perDay, asReader, asSender, unread] = await Promise.all([
      orNotFound(api(`/users/${uid}/presence`)),
      allPages(`/users/${uid}/sessions`, span),
      Promise.all(
        range.days.map((day) =>
          api(`/users/${uid}/sessions`, {
            from: new Date(day).toISOString(),
            to: new Date(day + DAY_MS).toISOString(),
            limit: 1,
          }),
        ),
      ),
      api('/analytics/read-latency', { ...span, reader: subject }),
      api('/analytics/read-latency', { ...span, sender: subject }),
      orNotFound(allPages(`/users/${uid}/unread`, {})),
    ]);

    if (presence) {
      show('user-status', presence.status, presence.status);
      show(
        'user-since',
        presence.since,
        presence.since ? `since ${formatTime(presence.since)}` : '',
      );
      show(
        'user-last-seen',
        presence.lastSeenAt,
        presence.lastSeenAt ? formatTime(presence.lastSeenAt) : '–',
      );
    } else {
      show('user-status', null, 'never connected');
      show('user-since', null, 'no connection event names this uid');
      show('user-last-seen', null, '–');
    }
    fillTable(
      'user-open',
      presence?.sessions ?? [],
      [
        (s) => cell(s.sessionId),
        (s) => cell(orDash(s.deviceId)),
        (s) => cell(orDash(s.platform)),
        (s) => cell(orDash(s.userAgent), '', s.userAgent ?? undefined),
        (s) => cell(orDash(s.sdkVersion)),
        (s) => cell(orDash(s.origin)),
        (s) => cell(formatTime(s.connectedAt)),
        (s) => cell(s.openedBy),
      ],
      'No open session',
    );
    show('user-online-total', sessions.totalOnlineMs, formatMs(sessions.totalOnlineMs));
    show(
      'user-session-count',
      sessions.items.length,
      `${formatCount(sessions.items.length)} sessions${sessions.nextCursor ? ' (first pages)' : ''}`,
    );
    if (unread) {
      show('user-unread', unread.total, `${formatCount(unread.total)} messages`);
      show(
        'user-unread-note',
        unread.conversations,
        `in ${formatCount(unread.conversations)} conversations` +
          (unread.inferred > 0 ? ` · ${formatCount(unread.inferred)} by inferred membership` : ''),
      );
    } else {
      show('user-unread', null, '–');
      show('user-unread-note', null, 'no conversation names this uid');
    }
    fillTable(
      'user-unread-conversations',
      unread?.items ?? [],
      [
        (c) => linkCell(c.conversationId, pageHref('conversation', c.conversationId, unread.appId)),
        (c) => cell(c.receiverType),
        (c) => cell(formatCount(c.unread), 'num'),
        (c) => cell(formatTime(c.oldestUnreadSentAt)),
        (c) => cell(formatTime(c.newestUnreadSentAt)),
        (c) => cell(c.lastReadAt ? formatTime(c.lastReadAt) : 'never'),
        (c) => cell(c.membership, c.membership === 'inferred' ? 'inferred' : ''),
      ],
      'Nothing unread',
    );
    show('user-reader-p50', asReader.p50Ms, formatMs(asReader.p50Ms));
    show('user-reader-count', asReader.count, `${formatCount(asReader.count)} messages read`);
    show('user-sender-p50', asSender.p50Ms, formatMs(asSender.p50Ms));
    show('user-sender-count', asSender.count, `${formatCount(asSender.count)} reads of theirs`);

    fillTable(
      'user-days',
      range.days.map((day, i) => ({ day, onlineMs: perDay[i].totalOnlineMs })),
      [(d) => cell(isoDay(d.day)), (d) => cell(formatMs(d.onlineMs), 'num', String(d.onlineMs))],
      'No days',
    );
    fillTable(
      'user-sessions',
      sessions.items,
      [
        (s) => cell(laneOf(s), '', s.sessionId),
        (s) => cell(formatTime(s.connectedAt)),
        (s) => cell(s.disconnectedAt ? formatTime(s.disconnectedAt) : 'open'),
        (s) => cell(formatMs(s.durationMs), 'num'),
        (s) => cell(s.closedBy ?? '–', s.closedBy === 'inferred' ? 'inferred' : ''),
      ],
      'No sessions in the range',
    );
    $('user-sessions-note').textContent = `${range.fromDay} to ${range.toDay}`;
    timeline(sessions.items, range, now.getTime());
    return span;
  }

  /**
   * One lane per device; a session overlapping another of the same device (current-format
   * payloads name no device, only the platform) gets a lane of its own below, so overlaps show.
   */
  function timelineLanes(sessions, nowMs) {
    const lanes = new Map();
    const laneEnds = new Map();
    const byStart = [...sessions].sort(
      (a, b) => Date.parse(a.connectedAt) - Date.parse(b.connectedAt),
    );
    for (const s of byStart) {
      const key = laneOf(s);
      const ends = laneEnds.get(key) ?? [];
      const start = Date.parse(s.connectedAt);
      let i = ends.findIndex((end) => end <= start);
      if (i === -1) {
        i = ends.push(0) - 1;
      }
      ends[i] = s.disconnectedAt ? Date.parse(s.disconnectedAt) : nowMs;
      laneEnds.set(key, ends);
      lanes.set(s.sessionId, i === 0 ? key : `${key} (overlap ${i})`);
    }
    return lanes;
  }

  /** Bars clipped to the range, coloured by how the session ended. */
  function timeline(sessions, range, nowMs) {
    const laneBySession = timelineLanes(sessions, nowMs);
    const lanes = [...new Set(laneBySession.values())].sort();
    const end = Math.min(range.endMs, nowMs);
    const kindOf = (s) =>
      s.disconnectedAt === null ? 'open' : s.closedBy === 'inferred' ? 'inferred' : 'event';
    const bars = (which) =>
      sessions
        .filter((s) => kindOf(s) === which)
        .map((s) => ({
          x: [
            Math.max(Date.parse(s.connectedAt), range.startMs),
            Math.min(s.disconnectedAt ? Date.parse(s.disconnectedAt) : nowMs, end),
          ],
          y: laneBySession.get(s.sessionId),
          sessionId: s.sessionId,
        }));
    const dataset = (label, which, color) => ({
      label,
      data: bars(which),
      backgroundColor: color,
      borderColor: color,
      borderWidth: 1,
      grouped: false,
      barPercentage: 0.7,
      categoryPercentage: 1,
    });
    $('timeline-chart').parentElement.style.height = `${Math.max(160, 60 + lanes.length * 36)}px`;
    chart('timeline-chart', {
      type: 'bar',
      data: {
        labels: lanes,
        datasets: [
          dataset('closed by its disconnect', 'event', 'rgba(53, 89, 224, 0.55)'),
          dataset('closed by inference', 'inferred', 'rgba(247, 144, 9, 0.7)'),
          dataset('open', 'open', 'rgba(18, 183, 106, 0.6)'),
        ],
      },
      options: {
        indexAxis: 'y',
        interaction: { mode: 'nearest', intersect: true },
        scales: {
          x: {
            type: 'linear',
            min: range.startMs,
            max: end,
            ticks: { callback: (value) => formatTime(new Date(Number(value)).toISOString()) },
          },
        },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              label: (c) => {
                const [start, stop] = c.raw.x;
                return `${c.raw.sessionId}: ${formatTime(new Date(start).toISOString())} – ${formatTime(new Date(stop).toISOString())} (${formatMs(stop - start)})`;
              },
            },
          },
        },
      },
    });
  }

  /** Whether a webhook body names message `id` (as `id` or `messageId`, at any depth). */
  function namesMessage(value, id) {
    if (!value || typeof value !== 'object') {
      return false;
    }
    return Object.entries(value).some(
      ([key, v]) =>
        ((key === 'id' || key === 'messageId') && String(v) === id) || namesMessage(v, id),
    );
  }

  const AROUND_MS = 60_000;
  const MAX_EVENT_QUERIES = 24;

  async function showMessage() {
    const id = encodeURIComponent(subject);
    const [message, receipts] = await Promise.all([
      orNotFound(api(`/messages/${id}`)),
      orNotFound(api(`/messages/${id}/receipts`)),
    ]);
    if (!message && !receipts) {
      throw new Error(`nothing is known of message ${subject}`);
    }
    const about = message ?? receipts;
    show('message-sender', about.sender, about.sender ?? '–');
    const sender = $('message-sender');
    if (about.sender) {
      const a = document.createElement('a');
      a.href = pageHref('user', about.sender, about.appId);
      a.textContent = about.sender;
      sender.replaceChildren(a);
    }
    show(
      'message-receiver',
      about.receiver,
      about.receiver ? `${about.receiverType === 'group' ? 'group ' : ''}${about.receiver}` : '–',
    );
    const conversation = $('message-conversation');
    conversation.dataset.value = about.conversationId ?? '';
    if (about.conversationId) {
      const a = document.createElement('a');
      a.href = pageHref('conversation', about.conversationId, about.appId);
      a.textContent = about.conversationId;
      conversation.replaceChildren(a);
    } else {
      conversation.textContent = '';
    }
    show('message-sent', about.sentAt, about.sentAt ? formatTime(about.sentAt) : 'not yet known');
    const changes = [
      about.editedAt ? `edited ${formatTime(about.editedAt)}` : '',
      about.deletedAt ? `deleted ${formatTime(about.deletedAt)}` : '',
    ].filter(Boolean);
    show('message-changes', changes.join(' · '), changes.join(' · '));

    const delivered = receipts?.delivered ?? [];
    const read = receipts?.read ?? [];
    const summary = receipts?.summary;
    show(
      'message-counts',
      summary ? `${summary.deliveredCount}/${summary.readCount}/${summary.recipients}` : null,
      summary
        ? `${formatCount(summary.deliveredCount)} / ${formatCount(summary.readCount)} of ${formatCount(summary.recipients)}`
        : '–',
    );
    const all = [
      summary?.deliveredToAllAt ? `delivered to all ${formatTime(summary.deliveredToAllAt)}` : '',
      summary?.readByAllAt ? `read by all ${formatTime(summary.readByAllAt)}` : '',
    ].filter(Boolean);
    show('message-all', all.join(' · '), all.join(' · '));

    const uids = [...new Set([...delivered, ...read].map((r) => r.uid))].sort();
    const byUid = (list) => new Map(list.map((r) => [r.uid, r]));
    const deliveredBy = byUid(delivered);
    const readBy = byUid(read);
    const kind = (r) => (r ? (r.implied ? 'implied' : 'explicit') : '–');
    fillTable(
      'message-recipients',
      uids.map((uid) => ({ uid, d: deliveredBy.get(uid), r: readBy.get(uid) })),
      [
        (x) => linkCell(x.uid, pageHref('user', x.uid, about.appId)),
        (x) => cell(x.d ? formatTime(x.d.at) : '–'),
        (x) => cell(formatMs(x.d?.latencyMs), 'num'),
        (x) => cell(kind(x.d)),
        (x) => cell(x.r ? formatTime(x.r.at) : '–'),
        (x) => cell(formatMs(x.r?.latencyMs), 'num'),
        (x) => cell(kind(x.r)),
      ],
      'No receipts',
    );

    const around = (at) => ({
      from: new Date(Date.parse(at) - AROUND_MS).toISOString(),
      to: new Date(Date.parse(at) + AROUND_MS).toISOString(),
    });
    const queries = [];
    for (const at of [about.sentAt, about.editedAt, about.deletedAt]) {
      if (at && about.sender) {
        queries.push({ uid: about.sender, ...around(at) });
      }
    }
    for (const r of [...delivered, ...read].filter((r) => !r.implied)) {
      queries.push({ uid: r.uid, ...around(r.at) });
    }
    if (summary?.deliveredToAllAt) {
      queries.push({ trigger: 'message_delivered_to_all', ...around(summary.deliveredToAllAt) });
    }
    if (summary?.readByAllAt) {
      queries.push({ trigger: 'message_read_by_all', ...around(summary.readByAllAt) });
    }
    const pages = await Promise.all(
      queries.slice(0, MAX_EVENT_QUERIES).map((q) => api('/events', { ...q, limit: 100 })),
    );
    const events = new Map();
    for (const page of pages) {
      for (const e of page.items) {
        if (namesMessage(e.body, subject)) {
          events.set(e.eventId, e);
        }
      }
    }
    const sorted = [...events.values()].sort(
      (a, b) => Date.parse(a.eventAt ?? a.receivedAt) - Date.parse(b.eventAt ?? b.receivedAt),
    );
    fillTable(
      'message-events',
      sorted,
      [
        (e) => cell(e.eventId, 'num'),
        (e) => cell(e.eventAt ? formatTime(e.eventAt) : '–'),
        (e) => cell(e.trigger),
        (e) => cell(e.uid ?? '–'),
        (e) => cell(formatTime(e.receivedAt)),
        (e) => bodyCell(e.body),
      ],
      queries.length > MAX_EVENT_QUERIES ? 'None found near the first times' : 'None found',
    );
    return { from: about.sentAt ?? '', to: '' };
  }

  async function showConversation(now) {
    const range = dayRange(now);
    const span = { from: range.from, to: range.to, conversationId: subject };
    const [read, delivery, messages] = await Promise.all([
      api('/analytics/read-latency', { ...span, interval: 'day' }),
      api('/analytics/delivery-latency', span),
      api(`/conversations/${encodeURIComponent(subject)}/messages`, {
        from: range.from,
        to: range.to,
        limit: MESSAGES_SHOWN,
      }),
    ]);
    show('conversation-read-p50', read.p50Ms, formatMs(read.p50Ms));
    show('conversation-read-count', read.count, `${formatCount(read.count)} read receipts`);
    show('conversation-delivery-p50', delivery.p50Ms, formatMs(delivery.p50Ms));
    show(
      'conversation-delivery-count',
      delivery.count,
      `${formatCount(delivery.count)} delivery receipts`,
    );
    latencyChart('conversation-read-chart', read, (iso) => iso.slice(0, 10));
    showConversationMessages(messages);
    return { from: range.from, to: range.to };
  }

  const MESSAGES_SHOWN = 100;
  const MAX_MEMBER_COLUMNS = 12;

  /** One row per message, one column per member: read, delivered or nothing, with latency. */
  function showConversationMessages(messages) {
    const items = messages.items;
    const members = new Set();
    for (const m of items) {
      if (m.receiverType === 'user') {
        members.add(m.sender).add(m.receiver);
      }
      for (const r of [...m.delivered, ...m.read]) {
        members.add(r.uid);
      }
    }
    const shown = [...members].sort().slice(0, MAX_MEMBER_COLUMNS);
    const th = (text, className) => {
      const element = document.createElement('th');
      element.textContent = text;
      if (className) {
        element.className = className;
      }
      return element;
    };
    $('conversation-messages')
      .querySelector('thead tr')
      .replaceChildren(
        th('Sent'),
        th('Message'),
        th('Sender'),
        th('Edited / deleted'),
        ...shown.map((uid) => th(uid)),
      );
    const stateOf = (m, uid) => {
      if (uid === m.sender) {
        return { text: 'sender', title: '' };
      }
      const r = m.read.find((x) => x.uid === uid);
      const d = m.delivered.find((x) => x.uid === uid);
      const receipt = r ?? d;
      if (!receipt) {
        return { text: '–', title: '' };
      }
      const kind = r ? 'read' : 'delivered';
      return {
        text: `${kind} ${formatMs(receipt.latencyMs)}${receipt.implied ? ' (implied)' : ''}`,
        title: `${kind} ${formatTime(receipt.at)}`,
      };
    };
    fillTable(
      'conversation-messages',
      items,
      [
        (m) => cell(formatTime(m.sentAt)),
        (m) => linkCell(m.id, pageHref('message', m.id, m.appId)),
        (m) => linkCell(m.sender, pageHref('user', m.sender, m.appId)),
        (m) =>
          cell(
            [
              m.editedAt ? `edited ${formatTime(m.editedAt)}` : '',
              m.deletedAt ? `deleted ${formatTime(m.deletedAt)}` : '',
            ]
              .filter(Boolean)
              .join(' · ') || '–',
          ),
        ...shown.map((uid) => (m) => {
          const state = stateOf(m, uid);
          return cell(state.text, undefined, state.title);
        }),
      ],
      'No messages in these days',
    );
    const notes = [
      messages.nextCursor ? `The latest ${formatCount(items.length)} messages of these days.` : '',
      members.size > shown.length
        ? `The first ${shown.length} of ${formatCount(members.size)} members by uid.`
        : '',
    ].filter(Boolean);
    $('conversation-messages-note').textContent = notes.join(' ');
    $('conversation-messages-note').hidden = notes.length === 0;
  }

  let appsShown = false;

  /** The app picker, once per page load: shown only when the store holds several apps. */
  async function showApps() {
    const apps = await api('/apps', {}, { scoped: false });
    appsShown = true;
    const picker = $('app-picker');
    if (apps.items.length < 2) {
      picker.hidden = true;
      return;
    }
    const option = (value, text) => {
      const element = document.createElement('option');
      element.value = value;
      element.textContent = text;
      return element;
    };
    picker.replaceChildren(
      option('', 'All apps'),
      ...apps.items.map((a) => option(a.appId, `${a.appId} (${formatCount(a.events)} events)`)),
    );
    if (appId && !apps.items.some((a) => a.appId === appId)) {
      picker.append(option(appId, `${appId} (no events)`));
    }
    picker.value = appId ?? '';
    picker.hidden = false;
    $('scope').hidden = true;
  }

  async function refresh() {
    if (refreshing || needsKey || !window.Chart) {
      return;
    }
    refreshing = true;
    const to = new Date();
    try {
      if (!appsShown) {
        await showApps();
      }
      const shownWindow = await PAGES[view](to);
      $('error').hidden = true;
      refreshes++;
      document.body.dataset.refreshes = String(refreshes);
      document.body.dataset.from = shownWindow.from;
      document.body.dataset.to = shownWindow.to;
      $('updated').textContent = `updated ${to.toLocaleTimeString()}`;
    } catch (error) {
      if (error instanceof NeedsKey) {
        askForKey(sessionStorage.getItem(KEY_STORAGE) !== null);
      } else {
        $('error').textContent = `Could not refresh: ${error.message}`;
        $('error').hidden = false;
      }
    } finally {
      refreshing = false;
    }
  }

  function askForKey(wrong) {
    needsKey = true;
    $('key-form').hidden = false;
    $('key-error').textContent = wrong ? 'That key was refused.' : '';
    $('key-input').focus();
  }

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $('key-input').value.trim());
    $('key-input').value = '';
    $('key-form').hidden = true;
    needsKey = false;
    void refresh();
  });
  $('refresh').addEventListener('click', () => void refresh());
  $('app-picker').addEventListener('change', () => {
    const next = new URLSearchParams(window.location.search);
    if ($('app-picker').value) {
      next.set('appId', $('app-picker').value);
    } else {
      next.delete('appId');
    }
    window.location.search = next.toString();
  });
  if (appId) {
    $('scope').textContent = `app ${appId}`;
  }

  const PAGES = {
    overview: showOverview,
    user: showUser,
    message: showMessage,
    conversation: showConversation,
  };
  $(`${view}-page`).hidden = false;
  document.body.dataset.view = view;
  if (subject) {
    document.title = `${view} ${subject} · Presence & Receipts Store`;
  }
  if (view === 'user' || view === 'conversation') {
    const range = dayRange(new Date());
    $('range').hidden = false;
    $('range-from').value = range.fromDay;
    $('range-to').value = range.toDay;
  }
  $('range').addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams(window.location.search);
    next.set('from', $('range-from').value);
    next.set('to', $('range-to').value);
    window.location.search = next.toString();
  });
  $('search-kind').value = view === 'overview' ? 'user' : view;
  $('search-input').value = subject ?? '';
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('search-input').value.trim();
    if (id) {
      window.location.href = pageHref($('search-kind').value, id);
    }
  });

  window.dashboard = { charts, formatMs, refresh };
  void refresh();
  setInterval(() => {
    if (!document.hidden) {
      void refresh();
    }
  }, REFRESH_MS);
})();
