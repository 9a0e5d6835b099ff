// The dashboard: plain browser JavaScript, no build step. Every number comes from the query API;
// nothing is computed here but the peak of the concurrency buckets and the display formats.
(function () {
  'use strict';

  const REFRESH_MS = 10_000;
  const DAY_MS = 86_400_000;
  const KEY_STORAGE = 'presence-receipts-store.apiKey';
  const params = new URLSearchParams(window.location.search);
  const appId = params.get('appId');
  const $ = (id) => document.getElementById(id);

  let refreshing = false;
  let needsKey = false;
  let refreshes = 0;
  const charts = {};

  class NeedsKey extends Error {}

  async function api(path, query) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) {
        url.searchParams.set(name, String(value));
      }
    }
    if (appId) {
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

  function latencyChart(id, report) {
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
        labels: series.map((b) => hourLabel(b.start)),
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

  async function refresh() {
    if (refreshing || needsKey || !window.Chart) {
      return;
    }
    refreshing = true;
    const to = new Date();
    const from = new Date(to.getTime() - DAY_MS);
    const window24h = { from: from.toISOString(), to: to.toISOString() };
    try {
      const [online, concurrency, read, delivery, conversations, rejected] = await Promise.all([
        api('/presence/online', { limit: 1 }),
        api('/analytics/concurrency', { ...window24h, interval: 'hour' }),
        api('/analytics/read-latency', { ...window24h, interval: 'hour' }),
        api('/analytics/delivery-latency', { ...window24h, interval: 'hour' }),
        api('/analytics/conversations', { ...window24h, limit: 10 }),
        api('/events/rejected', { limit: 10 }),
      ]);

      show('online-now', online.count, formatCount(online.count));
      const peak = Math.max(0, ...concurrency.buckets.map((b) => b.peak));
      show('peak-online', peak, formatCount(peak));
      show('read-p50', read.p50Ms, formatMs(read.p50Ms));
      show('read-count', read.count, `${formatCount(read.count)} read receipts`);
      show('delivery-p50', delivery.p50Ms, formatMs(delivery.p50Ms));
      show('delivery-count', delivery.count, `${formatCount(delivery.count)} delivery receipts`);
      await showDerivation();

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
      latencyChart('read-chart', read);
      latencyChart('delivery-chart', delivery);

      fillTable(
        'conversations',
        conversations.items,
        [
          (c) => cell(c.conversationId, '', `${c.conversationId} (app ${c.appId})`),
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
        ],
        'Nothing rejected',
      );
      $('rejected-note').textContent = rejected.nextCursor ? '(the 10 newest)' : '';

      $('error').hidden = true;
      refreshes++;
      document.body.dataset.refreshes = String(refreshes);
      document.body.dataset.from = window24h.from;
      document.body.dataset.to = window24h.to;
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
  if (appId) {
    $('scope').textContent = `app ${appId}`;
  }

  window.dashboard = { charts, formatMs, refresh };
  void refresh();
  setInterval(() => {
    if (!document.hidden) {
      void refresh();
    }
  }, REFRESH_MS);
})();
