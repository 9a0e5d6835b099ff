/**
 * Percentiles from the latency histogram (see the latency_histogram migration and latency-tally.ts): bins of 2%
 * width on a log scale, so a bin's harmonic midpoint is within 0.99% of every latency in it.
 */
export const GAMMA = 1.02;
export const UNMATCHED_BIN = -2;
export const ZERO_BIN = -1;

export interface Bin {
  bin: number;
  count: number;
  sumMs: number;
}

export interface LatencySummary {
  count: number;
  unmatched: number;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Same as latencyBinSql() (latency-tally.ts): where a latency in ms falls. */
export function binOf(latencyMs: number): number {
  return latencyMs <= 0 ? ZERO_BIN : Math.floor(Math.log(latencyMs) / Math.log(GAMMA));
}

/** The value standing for every latency in a bin: the midpoint that minimises relative error. */
export function representative(bin: number): number {
  if (bin <= ZERO_BIN) {
    return 0;
  }
  const low = GAMMA ** bin;
  return (2 * low * GAMMA) / (1 + GAMMA);
}

/**
 * Summary as percentile_cont would give it, with each order statistic replaced by its bin's
 * representative: linear interpolation between two values each within 1% stays within 1%.
 * The mean is exact (the bins keep exact sums).
 */
export function summarise(bins: Bin[]): LatencySummary {
  const matched = bins
    .filter((b) => b.bin !== UNMATCHED_BIN && b.count > 0)
    .sort((a, b) => a.bin - b.bin);
  const unmatched = bins.filter((b) => b.bin === UNMATCHED_BIN).reduce((n, b) => n + b.count, 0);
  const count = matched.reduce((n, b) => n + b.count, 0);
  if (count === 0) {
    return {
      count,
      unmatched,
      meanMs: null,
      p50Ms: null,
      p90Ms: null,
      p95Ms: null,
      p99Ms: null,
      maxMs: null,
    };
  }
  const sum = matched.reduce((n, b) => n + b.sumMs, 0);
  // k-th smallest latency (0-based), as its bin's representative.
  const orderStatistic = (k: number): number => {
    let seen = 0;
    for (const b of matched) {
      seen += b.count;
      if (k < seen) {
        return representative(b.bin);
      }
    }
    return representative(matched[matched.length - 1].bin);
  };
  const percentile = (p: number): number => {
    const rank = p * (count - 1);
    const lower = Math.floor(rank);
    const low = orderStatistic(lower);
    const value = lower === rank ? low : low + (orderStatistic(lower + 1) - low) * (rank - lower);
    return Math.round(value);
  };
  return {
    count,
    unmatched,
    meanMs: Math.round(sum / count),
    p50Ms: percentile(0.5),
    p90Ms: percentile(0.9),
    p95Ms: percentile(0.95),
    p99Ms: percentile(0.99),
    maxMs: Math.round(representative(matched[matched.length - 1].bin)),
  };
}
