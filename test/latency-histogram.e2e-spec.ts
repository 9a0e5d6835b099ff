import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterMessage, currentReceipt, legacyReceipt } from './factories';
import { resetDatabase, rows, startApp } from './setup/test-app';
import { isoSeconds, post } from './setup/http';

// A deterministic pseudo-random stream, so a failure can be replayed.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const T0 = Date.UTC(2026, 2, 1, 0, 0, 0) / 1000; // seconds
const DAYS = 4;

describe('latency from the histogram', () => {
  let exact: NestFastifyApplication;
  let approximate: NestFastifyApplication;

  beforeAll(async () => {
    exact = await startApp();
    approximate = await startApp({ LATENCY_EXACT_LIMIT: '0' });
    await resetDatabase();
    const r = random(7);
    const bodies: object[] = [];
    // 400 one-to-one and group messages over four days; receipts with human-like delays, some
    // before their message, some in the current format, some messages never arriving.
    for (let i = 0; i < 400; i++) {
      const group = i % 3 === 0;
      const sentAt = T0 + Math.floor(r() * DAYS * 86_400);
      const sender = `u${i % 7}`;
      const message = afterMessage({
        id: String(1000 + i),
        sender,
        receiver: group ? 'g1' : `u${(i % 7) + 1}`,
        receiverType: group ? 'group' : 'user',
        sentAt,
      });
      if (i % 17 !== 0) {
        bodies.push(message);
      }
      for (const reader of group ? ['u8', 'u9'] : [`u${(i % 7) + 1}`]) {
        const delivered = sentAt + Math.round(r() * 5);
        const read = delivered + Math.round(Math.exp(2 + 4 * r()));
        const build = i % 2 ? legacyReceipt : currentReceipt;
        const base = {
          messageId: String(1000 + i),
          reader,
          messageSender: sender,
          receiverType: group ? ('group' as const) : ('user' as const),
        };
        bodies.push(build({ ...base, kind: 'delivered', at: delivered }));
        if (r() < 0.8) {
          bodies.push(build({ ...base, kind: 'read', at: read }));
        }
      }
    }
    for (let i = 0; i < bodies.length; i += 50) {
      await Promise.all(bodies.slice(i, i + 50).map((b) => post(exact, b)));
    }
  });
  afterAll(async () => {
    await exact.close();
    await approximate.close();
  });

  it('matches the receipts exactly, per hour and per day, after every kind of change', async () => {
    for (const span of [1, 24]) {
      const histogram = await rows(
        `SELECT app_id, kind, start, receiver_type, implied, bin, count::int, sum_ms::bigint::text AS sum_ms
           FROM latency_histogram WHERE span_hours = $1 AND count <> 0 ORDER BY 1, 2, 3, 4, 5, 6`,
        [span],
      );
      const fromReceipts = await rows(
        `SELECT app_id, kind, date_trunc($1, at, 'UTC') AS start, COALESCE(receiver_type, '') AS receiver_type, implied,
                CASE WHEN latency_ms IS NULL THEN -2 WHEN latency_ms <= 0 THEN -1
                     ELSE floor(ln(latency_ms) / ln(1.02))::int END AS bin, count(*)::int AS count, COALESCE(sum(latency_ms), 0)::bigint::text AS sum_ms
           FROM receipts GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`,
        [span === 1 ? 'hour' : 'day'],
      );
      expect(histogram.length).toBeGreaterThan(50);
      expect(histogram).toEqual(fromReceipts);
    }
  });

  it.each([
    ['everything', ''],
    [
      'odd edges',
      `from=${isoSeconds(T0 + 5 * 3600 + 17 * 60)}&to=${isoSeconds(T0 + 2 * 86_400 + 13 * 3600 + 45 * 60)}`,
    ],
    // No whole hour in it: exact whatever the limit, as cheap as it gets.
    [
      'within one hour',
      `from=${isoSeconds(T0 + 86_400 + 600)}&to=${isoSeconds(T0 + 86_400 + 3000)}`,
      false,
    ],
    [
      'groups, explicit only',
      `receiverType=group&includeImplied=false&from=${isoSeconds(T0 + 3600)}`,
    ],
    [
      'hourly series',
      `from=${isoSeconds(T0 + 86_400 + 1800)}&to=${isoSeconds(T0 + 86_400 + 8 * 3600)}&interval=hour`,
    ],
    [
      'daily series',
      `from=${isoSeconds(T0 + 7200)}&to=${isoSeconds(T0 + 3 * 86_400 + 7200)}&interval=day`,
    ],
  ])('agrees with percentile_cont within 1%% for %s', async (_, query, fromHistogram = true) => {
    for (const kind of ['read', 'delivery']) {
      const url = `/analytics/${kind}-latency?${query}`;
      const want = (await exact.inject({ method: 'GET', url })).json();
      const got = (await approximate.inject({ method: 'GET', url })).json();
      expect([want.approximate, got.approximate]).toEqual([false, fromHistogram]);
      const pairs = [
        [want, got],
        ...(want.series ?? []).map((b: object, i: number) => [b, got.series[i]]),
      ];
      expect(got.series?.length).toBe(want.series?.length);
      for (const [w, g] of pairs) {
        expect({
          start: g.start,
          count: g.count,
          unmatched: g.unmatched,
          meanMs: g.meanMs,
        }).toEqual({
          start: w.start,
          count: w.count,
          unmatched: w.unmatched,
          meanMs: w.meanMs,
        });
        for (const key of ['p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'maxMs']) {
          if (w[key] === null) {
            expect(g[key]).toBeNull();
          }
          // Both sides round to whole ms: 1% of the exact value plus one ms.
          else {
            expect(Math.abs(g[key] - w[key])).toBeLessThanOrEqual(w[key] * 0.01 + 1);
          }
        }
      }
    }
  });
});
