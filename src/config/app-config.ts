import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  MinLength,
  Min,
  ValidateIf,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
// Anything else stays a string, which @IsBoolean refuses: `on` must not quietly mean false.
const toBool = ({ value }: { value: unknown }) => {
  const text = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (text === undefined || text === '') {
    return value;
  }
  return ['1', 'true', 'yes', 'on'].includes(text)
    ? true
    : ['0', 'false', 'no', 'off'].includes(text)
      ? false
      : value;
};
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** Every environment variable the service reads, with its default. The README lists the same. */
export class AppConfig {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;
  @Transform(toInt) @IsInt() @Min(1) @Max(65535) EMBEDDED_PG_PORT = 54329;
  @IsString() EMBEDDED_PG_DIR = '.data/postgres';
  @Transform(toBool) @IsBoolean() RUN_MIGRATIONS = true;
  @Transform(toInt) @IsInt() @Min(1) @Max(500) DB_POOL_SIZE = 10;
  @Transform(toInt) @IsInt() @Min(100) DB_CONNECT_TIMEOUT_MS = 3000;
  /** Named prepared statements on the hot paths; false for PgBouncer in transaction mode. */
  @Transform(toBool) @IsBoolean() DB_PREPARED_STATEMENTS = true;
  /** A streaming replica for the heavy reads (analytics, session history, the event log). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_REPLICA_URL?: string;
  /** Longest a read waits for the replica to replay what it must see before the primary answers. */
  @Transform(toInt) @IsInt() @Min(0) REPLICA_MAX_WAIT_MS = 1000;

  @Transform(emptyToUndefined)
  @ValidateIf(
    (c: AppConfig) => c.WEBHOOK_PASSWORD !== undefined || c.WEBHOOK_USERNAME !== undefined,
  )
  @IsString({ message: 'WEBHOOK_USERNAME must be set together with WEBHOOK_PASSWORD' })
  @MinLength(1)
  WEBHOOK_USERNAME?: string;
  @Transform(emptyToUndefined)
  @ValidateIf(
    (c: AppConfig) => c.WEBHOOK_PASSWORD !== undefined || c.WEBHOOK_USERNAME !== undefined,
  )
  @IsString({ message: 'WEBHOOK_PASSWORD must be set together with WEBHOOK_USERNAME' })
  @MinLength(1)
  WEBHOOK_PASSWORD?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(8) API_KEY?: string;

  @Transform(toInt) @IsInt() @Min(1024) BODY_LIMIT_BYTES = 1024 * 1024;
  /** Query requests per client IP per window; 0 (the default) turns the limit off. */
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_MAX = 0;
  @Transform(toInt) @IsInt() @Min(1000) RATE_LIMIT_WINDOW_MS = 60_000;
  @Transform(toInt) @IsInt() @Min(1) @Max(5000) INGEST_MAX_BATCH = 500;
  @Transform(toInt) @IsInt() @Min(1) @Max(16) INGEST_CONCURRENCY = 2;
  @Transform(toInt) @IsInt() @Min(1) INGEST_QUEUE_LIMIT = 10000;
  @Transform(toInt) @IsInt() @Min(100) SHUTDOWN_TIMEOUT_MS = 10000;
  /** Run the background derivation loop in this instance (every instance may; they share work). */
  @Transform(toBool) @IsBoolean() DERIVE_ENABLED = true;
  /** Most raw events derived in one transaction. */
  @Transform(toInt) @IsInt() @Min(1) @Max(50000) DERIVE_BATCH = 5000;
  /** How often an idle loop looks for events other instances stored (its own wake it at once). */
  @Transform(toInt) @IsInt() @Min(5) DERIVE_POLL_MS = 200;
  /** Longest a query waits for derivation to cover events acked before it; 0: never waits. */
  @Transform(toInt) @IsInt() @Min(0) READ_YOUR_WRITES_TIMEOUT_MS = 5000;
  /** /health reports derivation as degraded when its oldest pending event is older than this. */
  @Transform(toInt) @IsInt() @Min(0) DERIVATION_LAG_DEGRADED_MS = 10000;
  /** Latency questions over more receipts than this are answered from the histogram. */
  @Transform(toInt) @IsInt() @Min(0) LATENCY_EXACT_LIMIT = 100000;
  /** The longest range one GET /export/… request streams (each holds a connection meanwhile). */
  @Transform(toInt) @IsInt() @Min(1) @Max(3660) EXPORT_MAX_DAYS = 31;

  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose', 'silent'])
  LOG_LEVEL = 'log';
  /** `auto`: pretty lines on a terminal unless NODE_ENV=production, JSON otherwise. */
  @IsIn(['auto', 'json', 'pretty']) LOG_FORMAT = 'auto';
  @Transform(emptyToUndefined) @IsOptional() @IsString() NODE_ENV?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const config = plainToInstance(AppConfig, { ...env }, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map(
        (e) =>
          `${e.property}=${JSON.stringify(env[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
      ),
    );
  }
  return config;
}
