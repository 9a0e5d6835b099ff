/** How big and how long: the full profile backs the SPEC 5 claims, --quick is for everyday use. */
export interface Profile {
  name: 'full' | 'quick';
  /** Seconds of measured load per baseline run. */
  durationS: number;
  /** Unmeasured load before the first measured run, so the JIT and the pools are warm. */
  warmupS: number;
  baselineConnections: number;
  /** Burst: the service's acks in a closed loop at this many connections for burstS. */
  burstConnections: number;
  burstS: number;
  /** Ack latency at a fixed offered rate (open loop) for ackRateS. */
  ackRate: number;
  ackRateS: number;
  /** Sustained: offered rates as fractions of pgbench's tps, each held for sustainedS. */
  sustainedFractions: number[];
  sustainedS: number;
  /** Derived state must stay less than this far behind for a sustained step to pass. */
  sustainedLagS: number;
  /** Longest wait for the derivation backlog to drain before giving up. */
  drainTimeoutS: number;
  users: number;
  receipts: number;
  /** Days the seeded receipts are spread over, ending now. */
  receiptDays: number;
  presenceDurationS: number;
  presenceConnections: number;
  /** Presence latency at a fixed offered rate (open loop) for presenceRateS. */
  presenceRate: number;
  presenceRateS: number;
  latencyWindowsDays: number[];
  latencyRepetitions: number;
  /** Unread: sequential GET /users/:uid/unread of this many users with unread messages... */
  unreadRequests: number;
  /** ...this many of them checked against the anti-join reference... */
  unreadChecks: number;
  /** ...and each re-engagement list query timed this many times. */
  unreadListRepetitions: number;
}

const FULL: Profile = {
  name: 'full',
  durationS: 20,
  warmupS: 3,
  baselineConnections: 50,
  burstConnections: 50,
  burstS: 30,
  ackRate: 1000,
  ackRateS: 30,
  sustainedFractions: [0.25, 0.5, 0.75, 1, 1.25],
  sustainedS: 60,
  sustainedLagS: 1,
  drainTimeoutS: 900,
  users: 1_000_000,
  receipts: 10_000_000,
  receiptDays: 60,
  presenceDurationS: 20,
  presenceConnections: 50,
  presenceRate: 1000,
  presenceRateS: 20,
  latencyWindowsDays: [1, 7, 30],
  latencyRepetitions: 5,
  unreadRequests: 100,
  unreadChecks: 5,
  unreadListRepetitions: 5,
};

const QUICK: Profile = {
  ...FULL,
  name: 'quick',
  durationS: 5,
  warmupS: 1,
  burstS: 10,
  ackRateS: 10,
  sustainedS: 15,
  drainTimeoutS: 300,
  users: 100_000,
  receipts: 1_000_000,
  presenceDurationS: 5,
  presenceRateS: 10,
  latencyRepetitions: 3,
  unreadRequests: 50,
  unreadChecks: 5,
  unreadListRepetitions: 3,
};

export function profileFrom(argv: string[]): Profile {
  return argv.includes('--quick') ? QUICK : FULL;
}
