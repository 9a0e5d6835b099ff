/** The database cannot be reached now: callers answer 503 so CometChat retries later. */
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
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  if (error instanceof DatabaseUnavailableError) return true;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; kind?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NODE_CODES.has(code) || PG_CODES.test(code) || PRISMA_CODES.has(code)) return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  if (e.kind === 'DatabaseNotReachable' || e.kind === 'ConnectionClosed') return true;
  return isConnectionError(e.cause, depth + 1);
}
