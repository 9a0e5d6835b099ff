/** The database cannot take this now: callers answer 503 (Retry-After) so CometChat retries later. */
export class DatabaseUnavailableError extends Error {}

const NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// PostgreSQL: connection exceptions (08…), shutting down / starting up (57P01-03), too many connections.
const PG_CODES = /^(08...|57P0[123]|53300)$/;
// Prisma's own codes for an unreachable or closed database.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Can't reach database|Server has closed the connection|the database system is (shutting down|starting up)/i;

/** True for errors meaning "the database is unreachable", wherever they come from. */
export function isConnectionError(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) {
    return false;
  }
  if (error instanceof DatabaseUnavailableError) {
    return true;
  }
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; kind?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NODE_CODES.has(code) || PG_CODES.test(code) || PRISMA_CODES.has(code)) {
    return true;
  }
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) {
    return true;
  }
  if (e.kind === 'DatabaseNotReachable' || e.kind === 'ConnectionClosed') {
    return true;
  }
  return isConnectionError(e.cause, depth + 1);
}

// Five characters, but not Node's (EPIPE, EPERM: no SQLSTATE class starts with E) nor Prisma's
// (P1001, P2002; PostgreSQL's own P0001-P0004 are PL/pgSQL's).
const SQLSTATE = /^(?!E|P[1-9])[0-9A-Z]{5}$/;

/**
 * The PostgreSQL SQLSTATE behind an error, from pg (`code`) or from Prisma's driver adapter
 * (`cause.originalCode`, `meta.driverAdapterError.cause.originalCode`), else null.
 */
export function sqlState(error: unknown, depth = 0): string | null {
  if (depth > 4 || typeof error !== 'object' || error === null) {
    return null;
  }
  const e = error as {
    code?: unknown;
    originalCode?: unknown;
    cause?: unknown;
    meta?: { driverAdapterError?: unknown };
  };
  for (const code of [e.originalCode, e.code]) {
    if (typeof code === 'string' && SQLSTATE.test(code)) {
      return code;
    }
  }
  return sqlState(e.cause, depth + 1) ?? sqlState(e.meta?.driverAdapterError, depth + 1);
}

/**
 * SQLSTATEs that only the values being written can cause, so retrying the same event can never
 * succeed: class 22 (data exception: a value out of a type's range, bad encoding…), class 23
 * (integrity constraint: NOT NULL, foreign key, check) and 54000 (program_limit_exceeded: a
 * value too large for an index row). Left out on purpose: 23505 unique_violation and 23P01
 * exclusion_violation, which a concurrent writer can cause and a retry resolves (every insert
 * here is ON CONFLICT, so for the event alone they mean a race), and the rest of class 54
 * (too many columns or arguments: the statement's shape, not the event).
 */
const EVENT_CAUSED = /^(22...|23(?!505|P01)...|54000)$/;

/** True when PostgreSQL refused the values of the statement, not the statement or the server. */
export function isCausedByValues(error: unknown): boolean {
  const code = sqlState(error);
  return code !== null && EVENT_CAUSED.test(code);
}

/**
 * True for any failure of the database itself: unreachable, or an error PostgreSQL (or Prisma on
 * its behalf) raised that its input did not cause: disk full, out of memory, a missing function or
 * library, permissions, a missing table, a timeout, a read-only transaction, a shutdown…
 */
export function isDatabaseFault(error: unknown): boolean {
  if (isConnectionError(error)) {
    return true;
  }
  if (sqlState(error) !== null) {
    return !isCausedByValues(error);
  }
  const name = (error as { name?: unknown } | null)?.name;
  return (
    typeof name === 'string' &&
    /^PrismaClient(Known|Unknown)RequestError$|^PrismaClientInitializationError$|^PrismaClientRustPanicError$|^DriverAdapterError$/.test(
      name,
    )
  );
}
