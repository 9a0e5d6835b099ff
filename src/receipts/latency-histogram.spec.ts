import { Bin, binOf, representative, summarise, UNMATCHED_BIN } from './latency-histogram';

/** percentile_cont, written out: linear interpolation between order statistics. */
function percentileCont(sorted: number[], p: number): number {
  const rank = p * (sorted.length - 1);
  const lower = Math.floor(rank);
  return (
    sorted[lower] +
    (sorted[Math.min(lower + 1, sorted.length - 1)] - sorted[lower]) * (rank - lower)
  );
}

function binned(latencies: number[]): Bin[] {
  const bins = new Map<number, Bin>();
  for (const ms of latencies) {
    const bin = binOf(ms);
    const b = bins.get(bin) ?? { bin, count: 0, sumMs: 0 };
    b.count++;
    b.sumMs += ms;
    bins.set(bin, b);
  }
  return [...bins.values()];
}

// A deterministic pseudo-random stream, so a failure can be replayed.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe(summarise.name, () => {
  it('keeps every representative within 1% of every latency in its bin', () => {
    for (let ms = 1; ms < 2_000_000; ms = Math.ceil(ms * 1.003) + 1) {
      const estimate = representative(binOf(ms));
      expect(Math.abs(estimate - ms) / ms).toBeLessThan(0.01);
    }
  });

  it.each([
    [
      'human read delays (log-normal)',
      (r: () => number) => Math.round(Math.exp(8 + 2.5 * (r() + r() + r() - 1.5))),
    ],
    [
      'fast deliveries with a long tail',
      (r: () => number) => Math.round(r() < 0.9 ? 50 + 400 * r() : 60_000 * r() * r()),
    ],
    ['many zeros', (r: () => number) => (r() < 0.3 ? 0 : Math.round(10_000 * r()))],
  ])('gives percentiles within 1%% of percentile_cont for %s', (_, draw) => {
    for (const seed of [1, 2, 3]) {
      const r = random(seed);
      const latencies = Array.from({ length: 5000 }, () => draw(r));
      const sorted = [...latencies].sort((a, b) => a - b);
      const sut = summarise([...binned(latencies), { bin: UNMATCHED_BIN, count: 7, sumMs: 0 }]);
      expect(sut.count).toBe(5000);
      expect(sut.unmatched).toBe(7);
      expect(sut.meanMs).toBe(Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length));
      for (const [p, value] of [
        [0.5, sut.p50Ms],
        [0.9, sut.p90Ms],
        [0.95, sut.p95Ms],
        [0.99, sut.p99Ms],
        [1, sut.maxMs],
      ] as const) {
        const exact = percentileCont(sorted, p);
        // Rounding to whole ms adds at most 0.5 ms on top of the 1% bound.
        expect(Math.abs(value! - exact)).toBeLessThanOrEqual(exact * 0.01 + 0.5);
      }
    }
  });

  it('answers nulls for no data', () => {
    expect(summarise([{ bin: UNMATCHED_BIN, count: 2, sumMs: 0 }])).toEqual({
      count: 0,
      unmatched: 2,
      meanMs: null,
      p50Ms: null,
      p90Ms: null,
      p95Ms: null,
      p99Ms: null,
      maxMs: null,
    });
  });
});
