/** How big and how long: the full profile backs the SPEC 5 claims, --quick is for everyday use. */
export interface Profile {
  name: 'full' | 'quick';
  /** Seconds of measured load per ingest or baseline run. */
  durationS: number;
  /** Unmeasured load before the first measured run, so the JIT and the pools are warm. */
  warmupS: number;
  ingestConnections: number[];
  baselineConnections: number;
  users: number;
  receipts: number;
  /** Days the seeded receipts are spread over, ending now. */
  receiptDays: number;
  presenceDurationS: number;
  presenceConnections: number;
  latencyWindowsDays: number[];
  latencyRepetitions: number;
}

const FULL: Profile = {
  name: 'full',
  durationS: 20,
  warmupS: 3,
  ingestConnections: [10, 50, 200],
  baselineConnections: 50,
  users: 1_000_000,
  receipts: 10_000_000,
  receiptDays: 60,
  presenceDurationS: 20,
  presenceConnections: 50,
  latencyWindowsDays: [1, 7, 30],
  latencyRepetitions: 5,
};

const QUICK: Profile = {
  ...FULL,
  name: 'quick',
  durationS: 5,
  warmupS: 1,
  users: 100_000,
  receipts: 1_000_000,
  presenceDurationS: 5,
  latencyRepetitions: 3,
};

export function profileFrom(argv: string[]): Profile {
  return argv.includes('--quick') ? QUICK : FULL;
}
