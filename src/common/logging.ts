import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream, Level, LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';
import { AppConfig } from '../config/app-config';

/** LOG_LEVEL keeps Nest's names; pino calls `log` info and `verbose` trace. */
const PINO_LEVELS: Record<string, LevelWithSilent> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
  silent: 'silent',
};

// An incoming x-request-id is kept when it looks like an id; anything else gets a fresh UUID,
// so a caller cannot fill the logs with a 16 KiB "id".
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Fastify's genReqId: the caller's `x-request-id` when sane, else a UUID. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * nestjs-pino over pino-http: one `request completed` line per request and every line logged
 * while serving it carrying `reqId` (Fastify's request id). No bodies are logged, and
 * credentials are redacted from the headers.
 */
export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  const options = {
    level: PINO_LEVELS[config.LOG_LEVEL] ?? 'info',
    // pino-http keeps Fastify's request id (@fastify/middie hands it to the raw request) and
    // calls this only when there is none.
    genReqId: () => randomUUID(),
    quietReqLogger: true,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["proxy-authorization"]',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
    // The status is what matters of an answer; its headers are ours and the same every time.
    serializers: {
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
    },
    // A 5xx's cause is logged where it happened (the exception filter, with its stack); the
    // access line keeps only the status, not pino-http's stand-in "failed with status code" error.
    customErrorObject: (
      _request: IncomingMessage,
      _response: ServerResponse,
      _error: Error,
      line: Record<string, unknown>,
    ) => ({ ...line, err: undefined }),
    customLogLevel: (_request: IncomingMessage, response: ServerResponse, error?: Error): Level =>
      error !== undefined || response.statusCode >= 500
        ? 'error'
        : response.statusCode >= 400
          ? 'warn'
          : 'info',
  };
  const stream = destination ?? prettyOutput(config);
  return { pinoHttp: stream === undefined ? options : [options, stream] };
}

/** Human-readable lines on a terminal outside production; JSON (pino's default) otherwise. */
function prettyOutput(config: AppConfig): DestinationStream | undefined {
  const pretty =
    config.LOG_FORMAT === 'pretty' ||
    (config.LOG_FORMAT === 'auto' &&
      config.NODE_ENV !== 'production' &&
      process.stdout.isTTY === true);
  return pretty ? pinoPretty({ sync: true, singleLine: true, ignore: 'pid,hostname' }) : undefined;
}
